//! Walk a captured SASL-protected byte stream (RFC 4422 §3.7 frames) and list its frames.
//!
//! A first step when a directory client and server disagree about a security layer: are the
//! frames well formed, and does any exceed the receiver's maxbuf?
//!
//! ```text
//! cargo run -p sealstream-examples --example sasl_frames -- capture.bin 65536
//! ```

use std::process::ExitCode;

use sealstream::sasl::{Frame, parse_frame};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(path), maxbuf) = (args.next(), args.next()) else {
        eprintln!("usage: sasl_frames CAPTURE [MAXBUF]");
        return ExitCode::from(2);
    };
    let maxbuf = match maxbuf.map(|m| m.parse::<usize>()) {
        None => 65536,
        Some(Ok(m)) => m,
        Some(Err(e)) => {
            eprintln!("sasl_frames: MAXBUF: {e}");
            return ExitCode::from(2);
        }
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("sasl_frames: {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut offset = 0;
    let mut count = 0;
    while offset < bytes.len() {
        match parse_frame(&bytes[offset..], maxbuf) {
            Ok(Frame::Complete { body }) => {
                println!("frame {count} at offset {offset}: {} bytes", body.len());
                offset += body.end;
                count += 1;
            }
            Ok(Frame::Incomplete { missing }) => {
                eprintln!(
                    "sasl_frames: capture ends inside a frame at offset {offset} ({missing} bytes missing)"
                );
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("sasl_frames: offset {offset}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("{count} frames, {} bytes", bytes.len());
    ExitCode::SUCCESS
}
