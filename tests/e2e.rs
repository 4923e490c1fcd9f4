//! End-to-end tests: run the real `storetwin` binary as a user would.

use std::process::Command;

fn storetwin(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_storetwin")).args(args).output().expect("the storetwin binary runs")
}

#[test]
fn bench_phold_json_reports_the_run_and_is_deterministic() {
    let args = ["bench", "phold", "--lps", "512", "--events", "100000", "--seed", "9", "--json"];
    let out = storetwin(&args);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object on stdout");
    for field in ["lps", "events", "wall_s", "events_per_sec", "engine_bytes_per_lp", "event_hash"] {
        assert!(report.get(field).is_some(), "missing {field} in {report}");
    }
    assert_eq!(report["lps"], 512);
    assert_eq!(report["events"], 100_000);
    let bytes_per_lp = report["engine_bytes_per_lp"].as_f64().expect("a number");
    assert!(bytes_per_lp > 20.0 && bytes_per_lp <= 100.0, "engine bytes per LP {bytes_per_lp}");

    let again: serde_json::Value = serde_json::from_slice(&storetwin(&args).stdout).expect("JSON");
    assert_eq!(report["event_hash"], again["event_hash"]);
    let other = storetwin(&["bench", "phold", "--lps", "512", "--events", "100000", "--seed", "10", "--json"]);
    let other: serde_json::Value = serde_json::from_slice(&other.stdout).expect("JSON");
    assert_ne!(report["event_hash"], other["event_hash"]);
}

#[test]
fn end_time_limit_stops_at_that_time() {
    let out = storetwin(&["bench", "phold", "--lps", "100", "--end-time", "50", "--json"]);
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["end_time"], 50.0);
    // About lps * T / 2 events (mean delay 2).
    let events = report["events"].as_f64().expect("a number");
    assert!((events - 2_500.0).abs() < 300.0, "{events}");
}

#[test]
fn bad_input_is_a_clear_error_with_a_failing_exit_code() {
    let out = storetwin(&["bench", "phold", "--lps", "10", "--events", "5", "--remote", "1.5"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--remote must be a probability"), "{stderr}");
    assert!(out.stdout.is_empty());

    let out = storetwin(&["bench", "phold", "--lps", "10"]);
    assert_eq!(out.status.code(), Some(2), "missing stop condition is a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--events"));
}

#[test]
fn help_and_version() {
    let out = storetwin(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Examples:") && help.contains("bench"), "{help}");
    let out = storetwin(&["--version"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("storetwin "));
}
