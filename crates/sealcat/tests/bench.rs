//! `sealcat bench` as a user runs it: a short run completes with sane figures and no errors,
//! and bad options give one clear line and a non-zero exit.

use std::process::Command;

fn sealcat() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sealcat"))
}

/// Run `sealcat ARGS...` (a `bench --json` run), require success and return its JSON.
fn bench_json(args: &[&str]) -> serde_json::Value {
    let out = sealcat().args(args).output().expect("sealcat runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn short_json_run_has_sane_figures() {
    let doc = bench_json(&[
        "bench",
        "--json",
        "--duration",
        "0.2",
        "--idle-connections",
        "20",
    ]);
    assert_eq!(doc["errors"], 0);
    // TLS runs both ends on the runtime unless told otherwise.
    assert_eq!(doc["pin_sides"], false);
    for name in ["sealstream-tls", "tokio-rustls", "plain TCP"] {
        let r = &doc["results"][name];
        for key in ["bulk_mb_per_s", "duplex_mb_per_s", "handshakes_per_s"] {
            let v = r[key].as_f64().unwrap_or(f64::NAN);
            assert!(v.is_finite() && v > 0.0, "{name} {key} = {v}");
        }
        let p50 = r["ping_p50_us"].as_f64().unwrap();
        let p99 = r["ping_p99_us"].as_f64().unwrap();
        assert!(p50 > 0.0 && p99 >= p50, "{name} latency {p50} {p99}");
    }
    // The in-place read is a throughput row of its own; the rest would be sealstream-tls's.
    let in_place = &doc["results"]["sealstream-tls (in place)"];
    for key in ["bulk_mb_per_s", "duplex_mb_per_s"] {
        let v = in_place[key].as_f64().unwrap_or(f64::NAN);
        assert!(v.is_finite() && v > 0.0, "in place {key} = {v}");
    }
    assert!(in_place["ping_p50_us"].is_null() && in_place["handshakes_per_s"].is_null());
    // Off pinned sides a task may run on either worker: no side has a thread of its own.
    for key in ["bulk_sending_thread_busy", "duplex_server_thread_busy"] {
        assert!(doc["results"]["sealstream-tls"][key].is_null(), "{key}");
    }
    // Zero in steady state; a 0.2 s run still counts a few set-up allocations.
    let allocs = doc["results"]["sealstream-tls"]["allocs_per_record"]
        .as_f64()
        .unwrap();
    assert!(
        allocs < 0.05,
        "sealstream-tls allocates per record: {allocs}"
    );
    // Request and response on the multi-thread runtime: the read buffer given back when a
    // message is drained comes back from the pool, and a chatty connection keeps its keys.
    let per_trip = doc["results"]["sealstream-tls"]["allocs_per_round_trip"]
        .as_f64()
        .unwrap();
    assert!(
        per_trip < 0.2,
        "sealstream-tls allocates per round trip: {per_trip}"
    );
}

#[test]
fn pinned_sides_move_every_byte_for_each_implementation() {
    for sealer in ["tls", "digest-md5-int"] {
        let doc = bench_json(&[
            "bench",
            "--sealer",
            sealer,
            "--mode",
            "duplex",
            "--pin-sides",
            "--connections",
            "2",
            "--duration",
            "0.2",
            "--json",
        ]);
        assert_eq!(doc["pin_sides"], true);
        let results = doc["results"].as_object().unwrap();
        assert!(results.len() >= 2, "{sealer}: {results:?}");
        for (name, r) in results {
            let v = r["duplex_mb_per_s"].as_f64().unwrap_or(f64::NAN);
            assert!(v.is_finite() && v > 0.0, "{sealer}: {name} duplex = {v}");
            for key in ["duplex_client_thread_busy", "duplex_server_thread_busy"] {
                let busy = r[key].as_f64().unwrap_or(f64::NAN);
                assert!(
                    (0.0..=1.05).contains(&busy),
                    "{sealer}: {name} {key} = {busy}"
                );
            }
        }
    }
    let doc = bench_json(&[
        "bench",
        "--mode",
        "bulk",
        "--pin-sides",
        "--duration",
        "0.2",
        "--json",
    ]);
    let ours = &doc["results"]["sealstream-tls"];
    assert!(ours["bulk_mb_per_s"].as_f64().unwrap() > 0.0);
    // Pinned sides run on threads of their own, off the runtime whose parks are counted.
    assert!(ours["bulk_worker_parks_per_mb"].is_null());
    // Each side's thread's CPU time over the rounds' time, for every implementation: a share
    // of the time (read a moment after the round's clock stops, so a hair over 1 may show).
    for (name, r) in doc["results"].as_object().unwrap() {
        let sending = r["bulk_sending_thread_busy"].as_f64();
        let receiving = r["bulk_receiving_thread_busy"].as_f64();
        let (Some(sending), Some(receiving)) = (sending, receiving) else {
            panic!("{name}: no busy figure for a pinned side: {r}");
        };
        assert!(
            (0.0..=1.05).contains(&sending) && (0.0..=1.05).contains(&receiving),
            "{name}: sending {sending}, receiving {receiving}"
        );
        assert!(sending > 0.0, "{name}: the sending thread did not run");
        assert!(
            r["duplex_client_thread_busy"].is_null(),
            "{name}: no duplex ran"
        );
    }
    // Counted from the moment both sides are connected: handshakes are not in it.
    let allocs = ours["allocs_per_record"].as_f64().unwrap();
    assert!(
        allocs < 0.05,
        "sealstream-tls allocates per record: {allocs}"
    );
}

/// A sweep runs the throughput tests once per workers/connections pair, reports each pair's
/// figures, and ends a table run with one summary line per pair.
#[test]
fn a_sweep_runs_every_workers_and_connections_pair() {
    let common = [
        "bench",
        "--mode",
        "throughput",
        "--workers",
        "1,2",
        "--connections",
        "1,3",
        "--duration",
        "0.2",
        "--compare",
        "sealstream-tls,tokio-rustls,plain",
    ];
    let doc = bench_json(&[&common[..], &["--json"]].concat());
    let runs = doc["runs"].as_array().expect("a sweep prints its runs");
    let pairs: Vec<(u64, u64)> = runs
        .iter()
        .map(|r| {
            (
                r["workers"].as_u64().unwrap(),
                r["connections"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(pairs, [(1, 1), (1, 3), (2, 1), (2, 3)]);
    for run in runs {
        for name in ["sealstream-tls", "tokio-rustls", "plain TCP"] {
            for key in [
                "bulk_mb_per_s",
                "duplex_mb_per_s",
                "cpu_ns_per_byte",
                "duplex_cpu_ns_per_byte",
                "bulk_cores_busy",
                "duplex_cores_busy",
            ] {
                let v = run["results"][name][key].as_f64().unwrap_or(f64::NAN);
                assert!(v.is_finite() && v > 0.0, "{name} {key} = {v} in {run}");
            }
            // Throughput only: nothing else was measured.
            assert!(run["results"][name]["handshakes_per_s"].is_null());
            for key in ["bulk_round_mb_per_s", "duplex_round_mb_per_s"] {
                let rounds = run["results"][name][key].as_array().unwrap();
                assert_eq!(rounds.len(), 5, "{name} {key} in {run}");
                assert!(rounds.iter().all(|v| v.as_f64().unwrap() > 0.0));
            }
            for key in ["bulk_worker_parks_per_mb", "duplex_worker_parks_per_mb"] {
                let v = run["results"][name][key].as_f64().unwrap_or(f64::NAN);
                assert!(v.is_finite() && v >= 0.0, "{name} {key} = {v} in {run}");
            }
        }
        for test in ["bulk", "duplex"] {
            let r = &run["round_ratios"][test];
            let (lowest, median, highest) = (
                r["lowest"].as_f64().unwrap(),
                r["median"].as_f64().unwrap(),
                r["highest"].as_f64().unwrap(),
            );
            assert!(
                0.0 < lowest && lowest <= median && median <= highest,
                "{test} round ratios {r}"
            );
        }
    }
    let out = sealcat().args(common).output().expect("sealcat runs");
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    let summary = table
        .split_once("sweep: sealstream-tls ÷ tokio-rustls")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no sweep summary in:\n{table}"));
    // A header line, then one line per pair that starts with its workers and connections.
    let rows: Vec<Vec<&str>> = summary
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 4, "{summary}");
    for (row, (w, c)) in rows.iter().zip([(1, 1), (1, 3), (2, 1), (2, 3)]) {
        assert_eq!(row[..2], [w.to_string(), c.to_string()], "{summary}");
        assert!(row[2].ends_with('×') && row[3].ends_with('×'), "{summary}");
    }
}

#[test]
fn halves_that_do_not_take_turns_move_every_byte_too() {
    let doc = bench_json(&[
        "bench",
        "--mode",
        "duplex",
        "--take-turns=false",
        "--compare",
        "sealstream-tls",
        "--duration",
        "0.2",
        "--json",
    ]);
    let v = doc["results"]["sealstream-tls"]["duplex_mb_per_s"]
        .as_f64()
        .unwrap_or(f64::NAN);
    assert!(v.is_finite() && v > 0.0, "duplex = {v}");
}

#[test]
fn bad_options_fail_with_one_line() {
    for args in [
        &["bench", "--compare", "nonsense"][..],
        &["bench", "--suite", "TLS13_NOPE"],
        &["bench", "--duration", "-1"],
        &["bench", "--duration=0"],
        &["bench", "--no-such-flag"],
        &["bench", "--size", "100000000000"],
        &["bench", "--size", "0"],
        &["bench", "--workers", "0"],
        &["bench", "--take-turns=maybe"],
        &["bench", "--workers", "2,0"],
        &["bench", "--connections", "1,,2"],
        &["bench", "--mode", "soak", "--connections", "1,2"],
        &["bench", "--sealer", "digest-md5-conf-des"],
        &["bench", "--sealer", "krb5-rc4-hmac"],
        &["bench", "--compare", ""],
        &["bench", "--server-process"],
        &["bench", "--pin-sides=maybe"],
    ] {
        let out = sealcat().args(args).output().expect("sealcat runs");
        assert!(!out.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("sealcat: "), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"));
    }
}

#[test]
fn a_short_soak_loses_nothing() {
    let doc = bench_json(&[
        "bench",
        "--mode",
        "soak",
        "--connections",
        "100",
        "--duration",
        "1",
        "--json",
    ]);
    assert_eq!(doc["errors"], 0);
    assert_eq!(doc["bytes_lost"], 0);
    assert_eq!(doc["connections"], 100);
    assert!(doc["bytes_verified"].as_u64().unwrap() > 0);
    assert!(doc["rss_bytes_end"].as_u64().unwrap() > 0);
}

#[test]
fn a_soak_against_a_server_process_loses_nothing() {
    let doc = bench_json(&[
        "bench",
        "--mode",
        "soak",
        "--server-process",
        "--connections",
        "50",
        "--duration",
        "1",
        "--json",
    ]);
    assert_eq!(doc["errors"], 0);
    assert_eq!(doc["bytes_lost"], 0);
    assert_eq!(doc["connections"], 50);
    assert!(doc["bytes_verified"].as_u64().unwrap() > 0);
    assert!(doc["server_process_rss_bytes_end"].as_u64().unwrap() > 0);
}

#[test]
fn a_mode_measures_only_its_figures() {
    let doc = bench_json(&[
        "bench",
        "--mode",
        "echo",
        "--duration",
        "0.2",
        "--json",
        "--compare",
        "sealstream-tls,plain",
    ]);
    let ours = &doc["results"]["sealstream-tls"];
    assert!(ours["ping_p50_us"].as_f64().unwrap() > 0.0);
    assert!(
        ours["bulk_mb_per_s"].is_null(),
        "bulk not measured in echo mode"
    );
}

#[test]
fn a_digest_md5_layer_can_run_on_the_shared_runtime() {
    let doc = bench_json(&[
        "bench",
        "--sealer",
        "digest-md5-int",
        "--mode",
        "bulk",
        "--pin-sides=false",
        "--duration",
        "0.2",
        "--json",
    ]);
    assert_eq!(doc["pin_sides"], false);
    assert!(doc["primitives"]["bulk_ratio"].as_f64().unwrap() > 0.0);
}

#[test]
fn each_sasl_layer_runs_beside_its_primitives() {
    for sealer in [
        "digest-md5-int",
        "digest-md5-conf-rc4",
        "digest-md5-conf-3des",
        "krb5-aes256-int",
        "krb5-aes256-conf",
        "ntlm-seal",
        "ntlm-sign",
    ] {
        let doc = bench_json(&[
            "bench",
            "--sealer",
            sealer,
            "--mode",
            "bulk",
            "--duration",
            "0.3",
            "--json",
        ]);
        assert_eq!(doc["sealer"], sealer);
        let bulk = doc["results"][sealer]["bulk_mb_per_s"].as_f64().unwrap();
        assert!(bulk > 0.0, "{sealer}: {bulk}");
        assert!(
            doc["results"]["plain TCP"]["bulk_mb_per_s"]
                .as_f64()
                .unwrap()
                > 0.0
        );
        let p = &doc["primitives"];
        assert_eq!(p["layer"], sealer);
        let integrity_only = sealer.ends_with("-int") || sealer == "ntlm-sign";
        let (mac, combined) = (
            p["mac_mb_per_s"].as_f64().unwrap(),
            p["combined_mb_per_s"].as_f64().unwrap(),
        );
        assert!(
            mac.is_finite() && mac > 0.0 && combined.is_finite() && combined > 0.0,
            "{p}"
        );
        let expected_mac = if sealer.starts_with("krb5") {
            "HMAC-SHA1-96"
        } else {
            "HMAC-MD5"
        };
        assert_eq!(p["mac"], expected_mac, "{p}");
        if integrity_only {
            // The MAC is an integrity layer's whole work: one timing gives both figures.
            assert_eq!(mac, combined, "{p}");
        }
        // Judged against one core's primitives, a layer runs one side per core by default.
        assert_eq!(doc["pin_sides"], true, "{sealer}");
        assert_eq!(p["cipher_mb_per_s"].is_null(), integrity_only, "{p}");
        assert_eq!(p["cipher"].is_null(), integrity_only, "{p}");
        assert!(p["bulk_ratio"].as_f64().unwrap() > 0.0, "{p}");
    }
}

#[test]
fn idle_mode_measures_each_implementation_in_a_child_of_its_own() {
    let doc = bench_json(&[
        "bench",
        "--mode",
        "idle",
        "--idle-connections",
        "30",
        "--json",
    ]);
    for name in ["sealstream-tls", "tokio-rustls", "plain TCP"] {
        let r = &doc["results"][name];
        // Resident memory moves in whole pages, so a few connections may add none; the live
        // heap is exact and every connection holds some.
        for kind in ["idle", "held"] {
            let rss = r[format!("{kind}_rss_bytes_per_pair")].as_f64().unwrap();
            let heap = r[format!("{kind}_heap_bytes_per_pair")].as_f64().unwrap();
            assert!(rss.is_finite() && rss >= 0.0, "{name} {kind} rss {rss}");
            assert!(heap.is_finite() && heap > 0.0, "{name} {kind} heap {heap}");
        }
        assert!(r["bulk_mb_per_s"].is_null(), "{name}: idle mode moved data");
    }
    // A TLS connection holds more than a bare TCP one: the figures are per implementation,
    // not one process's growth shared out.
    let heap = |name: &str| {
        doc["results"][name]["idle_heap_bytes_per_pair"]
            .as_f64()
            .unwrap()
    };
    assert!(heap("sealstream-tls") > heap("plain TCP"));
    assert!(heap("tokio-rustls") > heap("plain TCP"));
}
