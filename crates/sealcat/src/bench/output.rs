//! How a run's results are printed: the table of figures with each one's ratio to the
//! reference, the primitives' rates beside a SASL layer's, the same as one JSON document
//! (`--json`), and a soak's report. Nothing here measures; everything printed to stdout is here.

use super::figures::{Better, Figures, ROWS, RoundRatios, ours, reference};
use super::options::Options;
use super::transport::{Impl, Tls};
use super::{Run, primitives, sasl, soak};

/// The AEAD backend sealstream-tls seals records with in this build (`--features ring` on
/// sealcat for ring); tokio-rustls's records and every handshake use aws-lc-rs.
const RECORD_LAYER: &str = if cfg!(feature = "aws-lc-rs") {
    "aws-lc-rs"
} else {
    "ring"
};

/// The figures as a table, a column per implementation and one for the ratio of ours to the
/// reference, then the in-place read's ratios.
pub(crate) fn print_table(options: &Options, tls: &Tls, results: &[(Impl, Figures)]) {
    let sealer = match ours(results) {
        Some((Impl::Sasl(layer), _)) => format!("{} ({}-byte frames)", layer.name(), sasl::MAXBUF),
        _ => format!(
            "{:?} (sealstream-tls records on {RECORD_LAYER})",
            tls.suite.suite()
        ),
    };
    let pinned = if options.pinned {
        " (throughput: sides pinned to a thread each)"
    } else {
        ""
    };
    println!(
        "sealcat bench: {sealer}, {}-byte writes, {} connection(s), {} tokio workers{pinned}, {} s per test, 127.0.0.1",
        options.write_size, options.connections, options.workers, options.duration
    );
    let reference = reference(results);
    let ours = ours(results);
    let mut header = format!("{:<28}", "");
    for (which, _) in results {
        header.push_str(&format!("{:>27}", which.name()));
    }
    if let (Some((theirs, _)), Some((us, _))) = (reference, ours) {
        header.push_str(&format!(
            "{:>34}",
            format!("{}÷{}", us.name(), theirs.name())
        ));
    }
    println!("{header}");
    for row in ROWS {
        if results.iter().all(|(_, f)| (row.get)(f).is_nan()) {
            continue; // not measured in this mode
        }
        let mut line = format!(
            "{:<28}",
            format!("{} ({})", row.label, row.unit).replace(" ()", "")
        );
        for (_, f) in results {
            let v = (row.get)(f);
            line.push_str(&format!(
                "{:>27}",
                if v.is_nan() {
                    "-".to_owned() // not measured for this implementation
                } else if v >= 100.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.2}")
                }
            ));
        }
        let lower_is_better = match row.better {
            Better::Lower => true,
            Better::Higher => false,
            Better::Neither => {
                println!("{line}");
                continue;
            }
        };
        if let (Some((_, r)), Some((_, o))) = (reference, ours) {
            let (ours, theirs) = ((row.get)(o), (row.get)(r));
            // A reference that prints as 0.00 (allocations per record of plain TCP, say) gives
            // no meaningful ratio: 0.0002 ÷ 0.00001 would print as "20×".
            let ratio = if theirs.abs() < 0.005 {
                f64::NAN
            } else {
                ours / theirs
            };
            let better = if lower_is_better {
                ratio < 1.0
            } else {
                ratio > 1.0
            };
            let text = if ratio.is_finite() && ours.abs() < 0.005 && lower_is_better {
                // "0.00× better" reads like a rounding accident: ours has none of it.
                "none, better".into()
            } else if ratio.is_finite() && ratio < 0.005 && lower_is_better {
                "<0.01× better".into()
            } else if ratio.is_finite() {
                format!("{ratio:.2}×{}", if better { " better" } else { "" })
            } else {
                "-".into()
            };
            line.push_str(&format!("{text:>34}"));
        }
        println!("{line}");
    }
    if let (Some((us, o)), Some((theirs, r))) = (ours, reference) {
        let said: Vec<String> = ["one-way", "duplex"]
            .into_iter()
            .zip(RoundRatios::both(o, r))
            .filter_map(|(test, ratios)| {
                let r = ratios?;
                Some(format!(
                    "{test} {:.2}× ({:.2}–{:.2}×)",
                    r.median, r.lowest, r.highest
                ))
            })
            .collect();
        if !said.is_empty() {
            println!(
                "{}÷{} round by round, median (lowest–highest): {}",
                us.name(),
                theirs.name(),
                said.join(", ")
            );
        }
    }
    // The in-place read beside the reference, read as every column above is not.
    let in_place = results.iter().find(|(w, f)| {
        *w == Impl::SealstreamInPlace && !(f.bulk_mbps.is_nan() && f.duplex_mbps.is_nan())
    });
    if let (Some((_, p)), Some((theirs, r))) = (in_place, reference) {
        let ratio = |get: fn(&Figures) -> f64| {
            let v = get(p) / get(r);
            if v.is_finite() {
                format!("{v:.2}×")
            } else {
                "-".into()
            }
        };
        println!(
            "sealstream-tls read in place (fill_buf/consume) ÷ {} read into a buffer: \
             one-way {}, duplex {}",
            theirs.name(),
            ratio(|f| f.bulk_mbps),
            ratio(|f| f.duplex_mbps)
        );
    }
}

/// The primitives' own rates, and the layer's throughput as a share of them. One-way, one core
/// wraps while the other unwraps; in duplex each core does one direction's wrap and the other's
/// unwrap: either way the layer's ceiling is one direction's crypto on one core.
pub(crate) fn print_primitives(
    layer: sasl::SaslLayer,
    rates: &primitives::PrimitiveRates,
    results: &[(Impl, Figures)],
) {
    println!();
    println!(
        "{} primitives on one core, {}-byte frames (one direction's work per byte):",
        layer.mechanism(),
        layer.frame_payload()
    );
    let (mac, mac_rate) = rates.mac;
    println!("  {:<34}{:>10.0} MB/s", mac, mac_rate);
    if let Some((cipher, rate)) = rates.cipher {
        println!("  {:<34}{:>10.0} MB/s", cipher, rate);
        println!(
            "  {:<34}{:>10.0} MB/s",
            format!("{mac} and {cipher}"),
            rates.combined
        );
    }
    if let Some((_, f)) = ours(results) {
        for (label, value) in [("one-way", f.bulk_mbps), ("full duplex", f.duplex_mbps)] {
            if value.is_finite() {
                println!(
                    "  {:<34}{:>10.2}",
                    format!("layer {label} ÷ primitives"),
                    value / rates.combined
                );
            }
        }
    }
}

/// The figures (and a SASL layer's primitives) as one JSON document; a figure not measured is
/// null. A sweep prints `{"runs": [...]}`, one such document per `--workers`/`--connections`
/// pair.
pub(crate) fn print_json(options: &Options, tls: &Tls, runs: &[Run]) {
    let docs: Vec<serde_json::Value> = runs.iter().map(|run| json_doc(options, tls, run)).collect();
    let doc = match <[_; 1]>::try_from(docs) {
        Ok([one]) => one,
        Err(docs) => serde_json::json!({ "runs": docs }),
    };
    println!("{doc:#}");
}

/// One run's figures as a JSON document.
fn json_doc(options: &Options, tls: &Tls, run: &Run) -> serde_json::Value {
    let results = &run.results;
    let mut impls = serde_json::Map::new();
    for (which, f) in results {
        impls.insert(
            which.name().into(),
            serde_json::json!({
                "bulk_mb_per_s": f.bulk_mbps,
                "duplex_mb_per_s": f.duplex_mbps,
                "cpu_ns_per_byte": f.cpu_ns_per_byte,
                "duplex_cpu_ns_per_byte": f.duplex_cpu_ns_per_byte,
                "bulk_cores_busy": f.bulk_cores,
                "duplex_cores_busy": f.duplex_cores,
                "bulk_round_mb_per_s": f.bulk_rounds,
                "duplex_round_mb_per_s": f.duplex_rounds,
                "bulk_worker_parks_per_mb": f.bulk_parks_per_mb,
                "duplex_worker_parks_per_mb": f.duplex_parks_per_mb,
                "bulk_sending_thread_busy": f.bulk_sending_thread_busy,
                "bulk_receiving_thread_busy": f.bulk_receiving_thread_busy,
                "duplex_client_thread_busy": f.duplex_client_thread_busy,
                "duplex_server_thread_busy": f.duplex_server_thread_busy,
                "ping_p50_us": f.ping_p50_us,
                "ping_p99_us": f.ping_p99_us,
                "handshakes_per_s": f.handshakes_per_s,
                "idle_rss_bytes_per_pair": f.idle_rss_per_pair,
                "idle_heap_bytes_per_pair": f.idle_heap_per_pair,
                "held_rss_bytes_per_pair": f.held_rss_per_pair,
                "held_heap_bytes_per_pair": f.held_heap_per_pair,
                "allocs_per_record": f.allocs_per_record,
                "allocs_per_round_trip": f.allocs_per_round_trip,
            }),
        );
    }
    let primitives = run.primitives.as_ref().map(|(layer, rates)| {
        let ours = ours(results).map(|(_, f)| f.clone()).unwrap_or_default();
        serde_json::json!({
            "layer": layer.name(),
            "frame_payload_bytes": layer.frame_payload(),
            "mac": rates.mac.0,
            "mac_mb_per_s": rates.mac.1,
            "cipher": rates.cipher.map(|(name, _)| name),
            "cipher_mb_per_s": rates.cipher.map(|(_, rate)| rate),
            "combined_mb_per_s": rates.combined,
            "bulk_ratio": ours.bulk_mbps / rates.combined,
            "duplex_ratio": ours.duplex_mbps / rates.combined,
        })
    });
    let round_ratios = match (ours(results), reference(results)) {
        (Some((_, o)), Some((_, r))) => {
            let [bulk, duplex] = RoundRatios::both(o, r).map(|ratios| {
                ratios.map(|r| {
                    serde_json::json!({"median": r.median, "lowest": r.lowest, "highest": r.highest})
                })
            });
            serde_json::json!({ "bulk": bulk, "duplex": duplex })
        }
        _ => serde_json::Value::Null,
    };
    serde_json::json!({
        "sealer": options.sealer,
        "round_ratios": round_ratios,
        "primitives": primitives,
        "suite": format!("{:?}", tls.suite.suite()),
        "record_layer": RECORD_LAYER,
        "write_size": options.write_size,
        "mode": format!("{:?}", options.mode).to_lowercase(),
        "connections": run.connections,
        "workers": run.workers,
        "pin_sides": options.pinned,
        "duration_s": options.duration,
        "errors": 0,
        "results": impls,
    })
}

/// A sweep's ratios, one line per `--workers`/`--connections` pair: ours against the reference
/// one-way and in duplex (all rounds together, and the median round), each implementation's
/// duplex against its own one-way, and CPU per byte against plain TCP's.
pub(crate) fn print_sweep(runs: &[Run]) {
    let Some(first) = runs.first() else { return };
    let (Some((us, _)), Some((theirs, _))) = (ours(&first.results), reference(&first.results))
    else {
        return;
    };
    let (us, theirs) = (us.name(), theirs.name());
    println!(
        "sweep: {us} ÷ {theirs}; duplex ÷ one-way and CPU per byte ÷ plain TCP's, {us} / {theirs}"
    );
    println!(
        "{:>8}{:>13}{:>10}{:>10}{:>20}{:>22}{:>26}",
        "workers",
        "connections",
        "one-way",
        "duplex",
        "median round",
        "duplex ÷ one-way",
        "CPU per byte ÷ plain"
    );
    let ratio = |v: f64| {
        if v.is_finite() {
            format!("{v:.2}×")
        } else {
            "-".into()
        }
    };
    for run in runs {
        let (Some((_, o)), Some((_, r))) = (ours(&run.results), reference(&run.results)) else {
            continue;
        };
        let plain = run
            .results
            .iter()
            .find(|(w, _)| *w == Impl::Plain)
            .map(|(_, f)| f.cpu_ns_per_byte)
            .unwrap_or(f64::NAN);
        let [bulk_round, duplex_round] =
            RoundRatios::both(o, r).map(|ratios| ratio(ratios.map_or(f64::NAN, |r| r.median)));
        println!(
            "{:>8}{:>13}{:>10}{:>10}{:>20}{:>22}{:>26}",
            run.workers,
            run.connections,
            ratio(o.bulk_mbps / r.bulk_mbps),
            ratio(o.duplex_mbps / r.duplex_mbps),
            format!("{bulk_round} / {duplex_round}"),
            format!(
                "{} / {}",
                ratio(o.duplex_mbps / o.bulk_mbps),
                ratio(r.duplex_mbps / r.bulk_mbps)
            ),
            format!(
                "{} / {}",
                ratio(o.cpu_ns_per_byte / plain),
                ratio(r.cpu_ns_per_byte / plain)
            ),
        );
    }
}

/// A soak's report, as lines or (`--json`) a JSON document.
pub(crate) fn print_soak(options: &Options, which: Impl, report: &soak::SoakReport) {
    if options.json {
        let doc = serde_json::json!({
            "mode": "soak",
            "implementation": which.name(),
            "connections": report.connections,
            "seconds": report.seconds,
            "bytes_verified": report.bytes,
            "errors": report.errors,
            "bytes_lost": report.lost,
            "rss_bytes_connected": report.rss_connected,
            "rss_bytes_end": report.rss_end,
            "server_process_rss_bytes_end": report.server_rss_end,
            "first_error": report.first_error,
        });
        println!("{doc:#}");
        return;
    }
    println!(
        "sealcat bench --mode soak: {}, {} connections, {:.1} s",
        which.name(),
        report.connections,
        report.seconds
    );
    println!("  bytes echoed and verified   {}", report.bytes);
    println!("  failed connections          {}", report.errors);
    println!("  bytes lost                  {}", report.lost);
    println!(
        "  RSS connected / at the end  {:.1} MB / {:.1} MB",
        report.rss_connected as f64 / 1e6,
        report.rss_end as f64 / 1e6
    );
    if let Some(rss) = report.server_rss_end {
        println!("  server process RSS at end   {:.1} MB", rss as f64 / 1e6);
    }
}
