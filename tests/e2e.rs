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

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("storetwin-e2e-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn scenario(name: &str) -> String {
    format!("{}/../scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn summary(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).expect("summary.json")).expect("JSON")
}

#[test]
fn run_weekday_writes_summary_timeseries_and_event_log() {
    let dir = scratch("weekday");
    let events = dir.join("day.events");
    let out = storetwin(&[
        "run",
        &scenario("weekday.toml"),
        "--out",
        dir.to_str().expect("utf-8"),
        "--events",
        events.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let s = summary(&dir);
    assert_eq!(s["run"]["seed"], 20240611);
    assert_eq!(s["run"]["scenario_hash"].as_str().map(str::len), Some(16));
    let k = &s["kpis"];
    let footfall = k["footfall"]["truth"].as_f64().expect("footfall");
    assert!((9_000.0..11_000.0).contains(&footfall), "about 10,000 shoppers: {footfall}");
    assert!(k["footfall"]["sensed"].as_f64().expect("sensed") != footfall, "sensed footfall is the door counter's");
    assert_eq!(k["payments"], k["sales"], "payments = sales - discounts (no discounts yet)");
    let queues = k["queues"].as_array().expect("queues");
    assert!(queues.len() >= 3);
    for q in queues {
        let w = &q["wait_s"];
        let (p50, p90, p99, max) = (w["p50"].as_f64(), w["p90"].as_f64(), w["p99"].as_f64(), w["max"].as_f64());
        assert!(p50 <= p90 && p90 <= p99 && p99 <= max, "percentiles in order: {w}");
    }
    let lanes = k["lanes"].as_array().expect("lanes");
    for lane in lanes {
        let u = lane["utilisation"].as_f64().expect("utilisation");
        assert!((0.0..=1.0).contains(&u));
    }
    // A queue's served are those its lanes served: a lane's own queue, its lane's; a shared
    // line, the sum over its lanes (every lane is fed by one queue).
    let served = |v: &serde_json::Value| v["served"].as_u64().expect("a count");
    for q in queues.iter().filter(|q| q["kind"] == "lane") {
        let lane = lanes.iter().find(|l| l["name"] == q["name"]).expect("the queue's lane");
        assert_eq!(served(q), served(lane), "{q}");
    }
    assert_eq!(queues.iter().map(served).sum::<u64>(), lanes.iter().map(served).sum::<u64>());
    assert!(k["heat_map"]["dwell_s"].as_array().expect("heat map").len() == 56 * 24);

    // One console line on crowding, with the run's figures: the zone densest at its peak,
    // the seconds slowed and blocked per shopper, the kiosk's gave-ups.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with("  crowding: ")).unwrap_or_else(|| panic!("{stdout}"));
    let c = &k["crowding"];
    let zones = c["zones"].as_array().expect("zones");
    let densest = zones
        .iter()
        .max_by(|a, b| a["peak_density"].as_f64().partial_cmp(&b["peak_density"].as_f64()).expect("numbers"))
        .expect("a zone");
    let f = |v: &serde_json::Value, d: usize| format!("{:.d$}", v.as_f64().expect("a number"));
    let expected = format!(
        "  crowding: peak {} people/m² in {}, {} s slowed and {} s blocked per shopper, kiosks: {} gave up",
        f(&densest["peak_density"], 2),
        densest["name"].as_str().expect("name"),
        f(&c["slowed_s_per_shopper"], 1),
        f(&c["blocked_s_per_shopper"], 1),
        k["kiosks"].as_array().expect("kiosks").iter().map(|q| q["reneged"].as_u64().expect("count")).sum::<u64>(),
    );
    assert_eq!(line, expected);

    let csv = std::fs::read_to_string(dir.join("timeseries.csv")).expect("timeseries.csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("minute,time,occupancy,entered"));
    assert_eq!(lines.len(), 1 + 12 * 60 + 1, "a row per simulated minute, both ends included");
    let entered: u64 =
        lines[1..].iter().map(|l| l.split(',').nth(3).and_then(|v| v.parse::<u64>().ok()).expect("entered")).sum();
    assert_eq!(entered as f64, footfall, "per-minute arrivals add up to the footfall");

    // The event log: a JSON header line, 16 bytes per delivered event, the end marker and
    // a JSON trailer with the run's event_hash.
    let log = std::fs::read(&events).expect("event log");
    let header_end = log.iter().position(|b| *b == b'\n').expect("header line");
    let header: serde_json::Value = serde_json::from_slice(&log[..header_end]).expect("JSON header");
    assert_eq!(header["format"], "storetwin-events");
    assert_eq!(header["version"], 2);
    let n = s["engine"]["events"].as_u64().expect("events") as usize;
    let marker = header_end + 1 + 16 * n;
    assert_eq!(&log[marker..marker + 16], &[0xFF; 16], "the end marker follows the last record");
    let trailer: serde_json::Value = serde_json::from_slice(&log[marker + 16..]).expect("JSON trailer");
    assert_eq!(trailer["events"].as_u64(), Some(n as u64));
    assert_eq!(trailer["event_hash"], s["engine"]["event_hash"]);
    assert_eq!(trailer["end_state"]["footfall"].as_f64(), Some(footfall));
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files left");
}

#[test]
fn same_seed_same_hash_on_any_thread_count() {
    let run = |name: &str, seed: &str, threads: &str| {
        let dir = scratch(name);
        let out = storetwin(&[
            "run",
            &scenario("layout-b.toml"),
            "--out",
            dir.to_str().expect("utf-8"),
            "--seed",
            seed,
            "--replications",
            "2",
            "--threads",
            threads,
        ]);
        assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
        summary(&dir)
    };
    let one = run("t1", "5", "1");
    let two = run("t2", "5", "2");
    assert_eq!(one["engine"]["replication_hashes"], two["engine"]["replication_hashes"]);
    assert_eq!(one["kpis"], two["kpis"]);
    assert_eq!(one["replications"], two["replications"]);
    let hashes = one["engine"]["replication_hashes"].as_array().expect("hashes");
    assert_ne!(hashes[0], hashes[1], "replications differ");
    let other = run("t3", "6", "2");
    assert_ne!(one["engine"]["event_hash"], other["engine"]["event_hash"]);
    // With two replications every headline KPI has a confidence interval.
    let sales = &one["replications"]["sales"];
    assert_eq!(sales["n"], 2);
    assert!(sales["low"].as_f64() <= sales["mean"].as_f64() && sales["mean"].as_f64() <= sales["high"].as_f64());
}

#[test]
fn validate_points_at_the_mistake() {
    let dir = scratch("validate");
    let good = std::fs::read_to_string(scenario("weekday.toml")).expect("weekday.toml");
    let line = good.lines().position(|l| l.starts_with("cell_m")).expect("cell_m line") + 1;
    let broken = good.replacen("cell_m = 1.0", "cell_m = 1.0\ncolour = \"red\"", 1);
    let path = dir.join("broken.toml");
    std::fs::write(&path, broken).expect("write");
    let out = storetwin(&["validate", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("broken.toml:{}:1", line + 1)), "file, line and column: {stderr}");
    assert!(stderr.contains("unknown key `colour`"), "{stderr}");

    let out = storetwin(&["validate", &scenario("layout-b.toml")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
}

#[test]
fn validate_checks_several_files_and_lists_the_defaults_applied() {
    // As a planner types it, from the workspace: `storetwin validate scenarios/*.toml`.
    let root = format!("{}/..", env!("CARGO_MANIFEST_DIR"));
    let validate = |files: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_storetwin"))
            .arg("validate")
            .args(files)
            .current_dir(&root)
            .output()
            .expect("the storetwin binary runs")
    };
    let (weekday, layout_b) = ("scenarios/weekday.toml", "scenarios/layout-b.toml");
    let out = validate(&[weekday, layout_b]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for file in [weekday, layout_b] {
        assert!(stdout.contains(&format!("{file}: ok.")), "{stdout}");
    }
    assert_eq!(stdout.matches("\n  defaults applied (not in the file):\n").count(), 2, "{stdout}");
    assert!(stdout.contains("\n    store.max_density_per_m2 = 4  ("), "{stdout}");
    // Items of an array that take the same default share a line.
    assert!(stdout.contains("\n    lane[L1, L2, L3, L4, L5, L6, SCO1,"), "{stdout}");

    // The crate's own Cargo.toml among the scenarios: each file is reported, the manifest
    // is called what it is, and the exit code says that one failed.
    let manifest = "scenarios/Cargo.toml";
    let out = validate(&[weekday, manifest, layout_b]);
    assert_eq!(out.status.code(), Some(1));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("{weekday}: ok.")) && stdout.contains(&format!("{layout_b}: ok.")), "{stdout}");
    // (miette wraps long messages; read the words.)
    let words: Vec<&str> = stderr.split_whitespace().filter(|w| *w != "│").collect();
    let said = words.join(" ");
    assert!(
        said.contains("scenarios/Cargo.toml is not a storetwin scenario (it looks like a Cargo manifest)"),
        "{stderr}"
    );
    assert!(stderr.contains("scenarios/Cargo.toml:1:2"), "{stderr}");
    assert!(stderr.contains("error: 1 of 3 files are not valid scenarios: scenarios/Cargo.toml"), "{stderr}");
}

#[test]
fn schema_is_a_json_schema() {
    let out = storetwin(&["schema"]);
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(schema["$schema"].as_str().is_some_and(|s| s.contains("json-schema.org")));
    assert!(schema["properties"]["store"].is_object());
}

fn compare_json(a: &str, b: &str, extra: &[&str]) -> serde_json::Value {
    compare_json_reps(a, b, "4", extra)
}

fn compare_json_reps(a: &str, b: &str, replications: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["compare", a, b, "--json", "--replications", replications];
    args.extend_from_slice(extra);
    let out = storetwin(&args);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn kpi<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["kpis"].as_array().expect("kpis").iter().find(|k| k["kpi"] == name).expect("KPI present")
}

#[test]
fn comparing_a_scenario_with_itself_gives_exactly_zero() {
    let weekday = scenario("weekday.toml");
    let report = compare_json(&weekday, &weekday, &[]);
    assert_eq!(report["common_random_numbers"], true);
    let kpis = report["kpis"].as_array().expect("kpis");
    assert!(kpis.len() > 20);
    for k in kpis {
        assert_ne!(k["group"], "other", "every KPI is described in kpi.rs: {k}");
        assert_eq!(k["diff"]["mean"], 0.0, "{k}");
        assert_eq!(k["diff"]["ci95"], 0.0, "{k}");
        assert_eq!(k["significant"], false);
    }
    assert_eq!(report["only_in_a"], serde_json::json!([]), "the same KPIs on both sides");
    assert_eq!(report["only_in_b"], serde_json::json!([]));
}

#[test]
fn compare_until_compares_the_day_so_far_and_lists_each_replication() {
    let (weekday, layout_b) = (scenario("weekday.toml"), scenario("layout-b.toml"));
    let morning = compare_json_reps(&weekday, &layout_b, "3", &["--until", "10:30"]);
    let day = compare_json_reps(&weekday, &layout_b, "3", &[]);
    assert_eq!(morning["until_s"], 9000, "2.5 h after the 08:00 opening");
    assert_eq!(day["until_s"], serde_json::Value::Null);
    for (report, name) in [(&morning, "morning"), (&day, "day")] {
        for k in report["kpis"].as_array().expect("kpis") {
            let reps = k["replications"].as_array().expect("each replication's A and B");
            assert_eq!(reps.len(), 3, "{name}: {k}");
            let mean = |side: &str| reps.iter().map(|r| r[side].as_f64().unwrap()).sum::<f64>() / 3.0;
            assert!((mean("a") - k["a"].as_f64().unwrap()).abs() <= 1e-9 * k["a"].as_f64().unwrap().abs().max(1.0));
            assert!((mean("b") - k["b"].as_f64().unwrap()).abs() <= 1e-9 * k["b"].as_f64().unwrap().abs().max(1.0));
        }
    }
    // By 10:30 the store has seen a fraction of the day's shoppers.
    let footfall = |r: &serde_json::Value| kpi(r, "footfall")["a"].as_f64().unwrap();
    assert!(footfall(&morning) > 0.0 && footfall(&morning) < footfall(&day) / 3.0);

    let out = storetwin(&["compare", &weekday, &layout_b, "--until", "21:00"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--until 21:00:00") && err.contains("08:00:00 to 20:00:00"), "{err}");
    let chain = scenario("chain-3-stores.toml");
    let out = storetwin(&["compare", &chain, &chain, "--until", "10:00"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--until compares two store scenarios"));
}

#[test]
fn common_random_numbers_narrow_the_interval_of_a_difference() {
    let (weekday, layout_b) = (scenario("weekday.toml"), scenario("layout-b.toml"));
    // Crowding couples the shoppers of a day, so a difference needs a few replications to
    // show what the pairing buys.
    let paired = compare_json_reps(&weekday, &layout_b, "6", &[]);
    let independent = compare_json_reps(&weekday, &layout_b, "6", &["--independent"]);
    assert_eq!(independent["common_random_numbers"], false);
    for name in ["mean_visit_s", "buyers", "sales"] {
        let (p, i) = (&kpi(&paired, name)["diff"]["ci95"], &kpi(&independent, name)["diff"]["ci95"]);
        let (p, i) = (p.as_f64().expect("ci"), i.as_f64().expect("ci"));
        assert!(p < i, "{name}: paired CI ±{p} should be narrower than independent ±{i}");
    }
    // The same shoppers come to both layouts: footfall does not differ at all.
    assert_eq!(kpi(&paired, "footfall")["diff"]["mean"], 0.0);
}

#[test]
fn one_fewer_cashier_at_peak_means_significantly_longer_waits() {
    let report = compare_json(&scenario("weekday.toml"), &scenario("staffing-lean.toml"), &[]);
    let wait = kpi(&report, "wait_mean_s");
    assert!(wait["diff"]["mean"].as_f64().expect("diff") > 0.0, "{wait}");
    assert_eq!(wait["significant"], true, "{wait}");
    assert_eq!(kpi(&report, "footfall")["diff"]["mean"], 0.0, "the same shoppers come");
}

/// The part of `html` from the element with `id` to the end of that element's figure or
/// section (the first `</figure>` or `</section>` after it).
fn by_id<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!(r#"id="{id}""#)).unwrap_or_else(|| panic!("no element with id {id}"));
    let rest = &html[start..];
    let end = ["</figure>", "</section>"].iter().filter_map(|t| rest.find(t)).min().expect("the element ends");
    &rest[..end]
}

#[test]
fn run_writes_a_self_contained_html_report() {
    let dir = scratch("report");
    let out = storetwin(&["run", &scenario("weekday.toml"), "--out", dir.to_str().expect("utf-8")]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let path = dir.join("report.html");
    assert!(String::from_utf8_lossy(&out.stdout).contains(&path.display().to_string()), "the report's path is printed");
    let html = std::fs::read_to_string(&path).expect("report.html");
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"), "a whole page");

    // Self-contained: nothing to fetch. The SVG namespace is a name, not a fetch.
    let without_namespace = html.replace(r#"xmlns="http://www.w3.org/2000/svg""#, "");
    for needle in ["http://", "https://", "src=", "href=", "<script", "<link", "<img", "<iframe", "@import", "url("] {
        assert!(!without_namespace.contains(needle), "the report must not reference anything outside it: {needle}");
    }

    // Every chart, drawn as inline SVG.
    let charts = [
        "floor-heatmap",
        "chart-occupancy",
        "chart-queue-length",
        "chart-queue-wait",
        "chart-sales",
        "chart-arrivals",
        "chart-funnel",
        "chart-lost",
        "chart-lost-category",
        "chart-sensed",
        "chart-utilisation",
        "floor-density",
    ];
    for id in charts {
        let figure = by_id(&html, id);
        assert!(figure.contains("<svg") && figure.contains("</svg>"), "{id} holds an SVG chart");
    }
    assert_eq!(html.matches("<svg").count(), charts.len());
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());

    // The floor plan names every lane, and the scheduled WiFi outage shows in the devices.
    let s = summary(&dir);
    let floor = by_id(&html, "floor-heatmap");
    for lane in s["kpis"]["lanes"].as_array().expect("lanes") {
        let name = lane["name"].as_str().expect("lane name");
        assert!(floor.contains(&format!("\n{name}\n</text>")), "lane {name} is labelled on the floor plan");
    }
    let devices = by_id(&html, "device-table");
    assert!(devices.contains("wifi-2") && devices.contains(r#"class="down""#), "wifi-2 was offline 14:00-15:00");

    // The KPI table shows the run's figures, and says why there is no interval.
    let table = by_id(&html, "kpi-table");
    assert!(table.contains("<table") && table.contains("Footfall (true)"));
    let footfall = s["kpis"]["footfall"]["truth"].as_f64().expect("footfall") as u64;
    let grouped = format!("{},{:03}", footfall / 1000, footfall % 1000);
    assert!(table.contains(&format!("<td>{grouped}</td>")), "footfall {grouped} in the KPI table");
    assert!(table.contains("1 replication: no confidence interval; run with --replications N"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains('±'), "one replication: figures without intervals");
    assert!(!table.contains("&plusmn;"), "no interval from one replication");
    let leftovers = std::fs::read_dir(&dir).expect("dir").filter_map(|e| e.ok());
    assert!(leftovers.filter(|e| e.file_name().to_string_lossy().ends_with(".tmp")).count() == 0);
    assert_numbers_contrast_with_their_cells(by_id(&html, "chart-queue-wait"), 50);

    // With replications, the table gives each mean with its 95% interval.
    let dir = scratch("report-replicated");
    let out =
        storetwin(&["run", &scenario("weekday.toml"), "--out", dir.to_str().expect("utf-8"), "--replications", "2"]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(dir.join("report.html")).expect("report.html");
    let table = by_id(&html, "kpi-table");
    assert!(table.contains("Means across 2 replications") && table.contains("&plusmn;"), "means with intervals");
    assert!(!table.contains("no confidence interval"));
    let crowding = by_id(&html, "crowding");
    assert_eq!(crowding.matches(r#"<div class="ci">±"#).count(), 4, "each crowding card with its interval: {crowding}");
    for label in ["Mean people/m²", "Peak people/m²"] {
        assert!(table.contains(label), "each zone's density in the key figures: {label}");
    }
}

/// The text of a piece of HTML: tags as spaces, the entities the pages use decoded,
/// whitespace collapsed.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    // Inline emphasis is part of the text around it.
    let html = html.replace("<b>", "").replace("</b>", "");
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&sup2;", "²")
        .replace("&ndash;", "–")
        .replace("&plusmn;", "±");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `v` as the pages write a count: thousands grouped.
fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `v` as the pages write money or a figure with `d` decimals: "2,490.23".
fn grouped(v: f64, d: usize) -> String {
    let s = format!("{v:.d$}");
    match s.split_once('.') {
        Some((int, frac)) => format!("{}.{frac}", thousands(int.parse().expect("digits"))),
        None => thousands(v),
    }
}

/// Escapes text as the pages do.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number: {v}"))
}

#[test]
fn report_shows_crowding_kiosks_lost_sales_and_restocking_from_the_run() {
    let dir = scratch("report-crowding");
    let out = storetwin(&["run", &scenario("weekday.toml"), "--out", dir.to_str().expect("utf-8")]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(dir.join("report.html")).expect("report.html");
    let s = summary(&dir);
    let (k, c) = (&s["kpis"], &s["kpis"]["crowding"]);

    // Crowding: the run's figures on the cards, and each way round a crowd in a sentence.
    let crowding = text_of(by_id(&html, "crowding"));
    let seconds =
        |v: f64| if v >= 120.0 { format!("{} min", grouped(v / 60.0, 1)) } else { format!("{} s", grouped(v, 1)) };
    for (label, key) in [
        ("Slowed by crowds", "slowed_s_per_shopper"),
        ("Blocked by full cells", "blocked_s_per_shopper"),
        ("Door to first shelf", "to_first_shelf_s"),
    ] {
        let card = format!("{label} {}", seconds(f(&c[key])));
        assert!(crowding.contains(&card), "{card:?} in {crowding}");
    }
    assert!(crowding.contains(&format!("Waited outside {}", thousands(f(&c["entry_waits"])))), "{crowding}");
    for (key, word) in [("detours", "detour"), ("swaps", "swap"), ("squeezes", "squeeze")] {
        let n = f(&c[key]);
        let plural = if n == 1.0 { "" } else { "s" };
        let plural = if word == "squeeze" && n != 1.0 { "s" } else { plural };
        let sentence = format!("{} {word}{plural}: ", thousands(n));
        assert!(crowding.contains(&sentence), "{sentence:?} in {crowding}");
    }
    assert!(crowding.contains("at most 4 people: the density limit of 4 people per m²"), "{crowding}");

    // The density plan's caption names the densest cell from the data, and says whether
    // any cell averaged above the limit.
    let densest = c["densest"].as_array().expect("densest");
    assert_eq!(densest.len(), 10);
    let top = &densest[0];
    let caption = format!(
        "The densest cell is [{}, {}] in {}: {} people/m² on average",
        top["x"],
        top["y"],
        top["zone"].as_str().expect("zone"),
        grouped(f(&top["mean_density"]), 2)
    );
    assert!(crowding.contains(&caption), "{caption:?} in {crowding}");
    let limit = f(&c["max_density_per_m2"]);
    let over = k["heat_map"]["density"].as_array().expect("density").iter().any(|d| f(d) > limit);
    assert_eq!(crowding.contains("averaged more than the limit"), over, "{crowding}");

    // The plan numbers the ten densest cells in white tags, readable on any colour.
    let plan = by_id(&html, "floor-density");
    let mut marks: Vec<u32> = plan
        .split("<text")
        .skip(1)
        .filter(|t| t.split('>').next().is_some_and(|a| a.contains(r#"font-weight="bold""#)))
        .filter_map(|t| t.split_once('>').and_then(|(_, r)| r.split("</text>").next()?.trim().parse().ok()))
        .collect();
    marks.sort();
    let mut expected: Vec<u32> = (1..=10).collect();
    expected.insert(0, 1); // the legend's sample tag
    assert_eq!(marks, expected, "a tag per densest cell");
    assert_numbers_contrast_with_their_cells(plan, 10);
    assert!(plan.contains("People per m²") && plan.contains("square-root scale"), "the plan has its scale");

    // The ten densest listed with their zone and density; each zone with its figures.
    let table = by_id(&html, "densest-table");
    for (i, d) in densest.iter().enumerate() {
        let row = format!(
            r#"<tr><td>{}</td><td class="t">[{}, {}]</td><td class="t">{}</td><td>{}</td><td>{}</td></tr>"#,
            i + 1,
            d["x"],
            d["y"],
            esc(d["zone"].as_str().unwrap_or("\u{2014}")),
            grouped(f(&d["mean_density"]), 2),
            d["peak_people"]
        );
        assert!(table.contains(&row), "{row} in the densest cells");
    }
    let zones = by_id(&html, "crowd-zone-table");
    for z in c["zones"].as_array().expect("zones") {
        let row = format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(z["name"].as_str().expect("name")),
            thousands(f(&z["area_m2"])),
            grouped(f(&z["mean_density"]), 2),
            grouped(f(&z["peak_density"]), 2),
            thousands(f(&z["peak_people"])),
            grouped(f(&z["slowed_hours"]), 1),
            grouped(f(&z["blocked_hours"]), 1),
        );
        assert!(zones.contains(&row), "{row} in the zone table");
    }

    // The kiosk's queue.
    let kiosks = by_id(&html, "kiosk-table");
    let q = &k["kiosks"][0];
    let row = format!(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td><td>{:.1}</td><td>{:.1}%</td></tr>",
        esc(q["name"].as_str().expect("name")),
        thousands(f(&q["joined"])),
        thousands(f(&q["served"])),
        thousands(f(&q["reneged"])),
        f(&q["wait_s"]["mean"]),
        f(&q["wait_s"]["p90"]),
        q["max_length"],
        f(&q["mean_length"]),
        100.0 * f(&q["utilisation"]),
    );
    assert!(kiosks.contains(&row), "{row} in {kiosks}");

    // Lost sales: the kiosk cause in plain words, by category and by SKU.
    assert!(!html.contains("kiosk_wait"), "a cause is named in words, not by its key");
    assert!(by_id(&html, "chart-lost").contains("Gave up waiting at the kiosk"));
    let categories = svg_texts(by_id(&html, "chart-lost-category"));
    for cat in k["lost_by_category"].as_array().expect("categories") {
        let name = cat["name"].as_str().expect("name").replace('_', " ");
        assert!(categories.iter().any(|(_, t)| *t == name), "a bar for {name}");
        let note = format!("{} · {} items", thousands(f(&cat["value"])), thousands(f(&cat["items"])));
        assert!(categories.iter().any(|(_, t)| t.starts_with(&note)), "{note:?} on the bar of {name}");
    }
    let skus = by_id(&html, "lost-sku-table");
    assert!(skus.contains("Gave up waiting at the kiosk"), "a column for the kiosk cause");
    let sku_rows: Vec<&str> = skus.split("<tr><td>").skip(1).collect();
    assert_eq!(sku_rows.len(), 10);
    for (row, sku) in sku_rows.iter().zip(k["lost_by_sku"].as_array().expect("skus")) {
        let name = esc(sku["name"].as_str().expect("name"));
        let value = grouped(f(&sku["value"]), 2);
        assert!(row.contains(&format!(">{name}</td>")) && row.contains(&format!("<td>{value}</td>")), "{row}");
        for n in sku["by_cause"].as_object().expect("causes").values() {
            assert!(row.contains(&format!("<td>{}</td>", thousands(f(n)))), "{n} by cause in {row}");
        }
    }

    // Restocking beside the stock-outs: rounds, alerts, trips and units of the run.
    let position = |id: &str| html.find(&format!(r#"id="{id}""#)).unwrap_or_else(|| panic!("no {id}"));
    assert!(position("lost-sales") < position("replenishment") && position("replenishment") < position("chart-lost"));
    let restocking = text_of(by_id(&html, "replenishment"));
    for (label, key) in [
        ("Staff rounds", "staff_rounds"),
        ("Low-stock alerts", "low_stock_alerts"),
        ("Restock trips", "restock_trips"),
        ("Units restocked", "restocked_units"),
    ] {
        let card = format!("{label} {}", thousands(f(&k[key])));
        assert!(restocking.contains(&card), "{card:?} in {restocking}");
    }
    let stock_out = &k["lost_sales"]["stock_out"];
    let effect = format!(
        "Empty shelves lost {} items worth {}",
        thousands(f(&stock_out["items"])),
        thousands(f(&stock_out["value"]))
    );
    assert!(restocking.contains(&effect), "{effect:?} in {restocking}");

    // The dwell map's caption names its hottest cell from the data, not the lanes by rule.
    let dwell = k["heat_map"]["dwell_s"].as_array().expect("dwell");
    let width = k["heat_map"]["width"].as_u64().expect("width") as usize;
    let hottest =
        (0..dwell.len()).max_by(|a, b| f(&dwell[*a]).total_cmp(&f(&dwell[*b])).then(b.cmp(a))).expect("cells");
    let floor = text_of(&html[html.find("<h2>Floor plan").expect("the floor section")..position("floor-heatmap")]);
    let claim = format!("The hottest cell is [{}, {}]", hottest % width, hottest / width);
    assert!(floor.contains(&claim), "{claim:?} in {floor}");
    let minutes = format!("({} shopper-minutes)", thousands(f(&dwell[hottest]) / 60.0));
    assert!(floor.contains(&minutes), "{minutes:?} in {floor}");
    assert!(!html.contains("so they are the hottest"));
}

/// A copy of weekday.toml with other devices (and none of its disruptions, which name its
/// devices, but one POS outage), in `dir`. A standalone file: a variant's devices would
/// merge by name with weekday's.
fn weekday_with_devices(dir: &std::path::Path, name: &str, devices: &str) -> String {
    let path = dir.join(name);
    let base = std::fs::read_to_string(scenario("weekday.toml")).expect("weekday.toml");
    let mut kept = String::new();
    let mut skipping = false;
    for line in base.lines() {
        if line.starts_with('[') {
            skipping = line.starts_with("[[device]]") || line.starts_with("[[disruption]]");
        }
        if !skipping {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    let toml = format!("{kept}\n{devices}\n[[disruption]]\nat = \"12:10\"\nuntil = \"12:30\"\npos_outage = \"L2\"\n");
    std::fs::write(&path, toml).expect("write the scenario");
    path.to_str().expect("utf-8").to_string()
}

#[test]
fn a_store_without_sensors_says_so_instead_of_minus_100_percent() {
    let dir = scratch("no-sensors");
    // The kiosk stays: it is a device, but it senses nothing.
    let kiosk = "[[device]]\nname = \"kiosk\"\nkind = \"kiosk\"\nat = \"K\"\n";
    let path = weekday_with_devices(&dir, "no-sensors.toml", kiosk);
    let out_dir = dir.join("out");
    let out = storetwin(&["run", &path, "--out", out_dir.to_str().expect("utf-8")]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("(no door counters)") && !stdout.contains("door counter 0"), "{stdout}");
    let html = std::fs::read_to_string(out_dir.join("report.html")).expect("report.html");
    let sensed = by_id(&html, "chart-sensed");
    assert!(sensed.contains("No sensors") && !sensed.contains("<svg"), "{sensed}");
    assert!(!html.contains("\u{2212}100") && !html.contains("-100%"), "no −100% anywhere");
    let table = by_id(&html, "kpi-table");
    for row in [
        r#"<tr><td>Footfall (door counters)</td><td class="none">no door counters</td></tr>"#,
        r#"<tr><td>Visitors seen by WiFi probes</td><td class="none">no WiFi probes</td></tr>"#,
        r#"<tr><td>Mean visit (WiFi probes)</td><td class="none">no WiFi probes</td></tr>"#,
    ] {
        assert!(table.contains(row), "{row}");
    }
    let arrivals = by_id(&html, "chart-arrivals");
    assert!(arrivals.contains("no door counters") && !arrivals.contains("door counters (sensed)"), "{arrivals}");
    let cards = &html[html.find(r#"<div class="cards">"#).expect("cards")..];
    assert!(text_of(&cards[..cards.find("</div>\n</div>").unwrap_or(600)]).contains("(no door counters)"));
    assert!(by_id(&html, "kiosk-table").contains("<table"), "the kiosk still has its queue");
    assert!(!text_of(by_id(&html, "floor-heatmap")).contains("WiFi probe"), "no device that is not there");

    // Door counters alone: the other sensed figures say what is missing, and have no bar.
    let door = "[[device]]\nname = \"door\"\nkind = \"door_counter\"\nat = \"E\"\nmiss = 0.03\ndouble = 0.01\n";
    let path = weekday_with_devices(&dir, "door-only.toml", &format!("{door}\n{kiosk}"));
    let out_dir = dir.join("out-door");
    let out = storetwin(&["run", &path, "--out", out_dir.to_str().expect("utf-8")]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(out_dir.join("report.html")).expect("report.html");
    let texts = svg_texts(by_id(&html, "chart-sensed"));
    for missing in ["no WiFi probes", "no face cameras or WiFi", "no smart shelves"] {
        assert!(texts.iter().any(|(_, t)| t == missing), "{missing} in {texts:?}");
    }
    assert!(texts.iter().any(|(_, t)| t.contains(" vs ") && t.contains('%')), "the door counters' error: {texts:?}");
    assert!(!html.contains("\u{2212}100") && !html.contains("-100%"), "no −100% anywhere");
}

#[test]
fn compare_out_writes_a_self_contained_comparison_page() {
    let dir = scratch("compare-page");
    let (weekday, layout_b) = (scenario("weekday.toml"), scenario("layout-b.toml"));
    let out =
        storetwin(&["compare", &weekday, &layout_b, "--replications", "2", "--out", dir.to_str().expect("utf-8")]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let path = dir.join("compare.html");
    assert!(String::from_utf8_lossy(&out.stdout).contains(&path.display().to_string()), "the page's path is printed");
    assert!(dir.join("comparison.json").exists(), "comparison.json is still written");
    let html = std::fs::read_to_string(&path).expect("compare.html");
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"), "a whole page");

    // Self-contained: nothing to fetch. The SVG namespace is a name, not a fetch.
    let without_namespace = html.replace(r#"xmlns="http://www.w3.org/2000/svg""#, "");
    for needle in ["http://", "https://", "src=", "href=", "<script", "<link", "<img", "<iframe", "@import", "url("] {
        assert!(!without_namespace.contains(needle), "the page must not reference anything outside it: {needle}");
    }
    assert!(html.contains("common random numbers (paired)"), "the page says how B was run");

    let mut charts = vec!["chart-differences", "floor-a", "floor-b", "chart-occupancy-ab"];
    if html.contains(r#"id="chart-differences-wide""#) {
        charts.push("chart-differences-wide");
    }
    for id in &charts {
        let figure = by_id(&html, id);
        assert!(figure.contains("<svg") && figure.contains("</svg>"), "{id} holds an SVG chart");
    }
    assert_eq!(html.matches("<svg").count(), charts.len());

    // The table has a row for every KPI compared, with its verdict.
    let table = by_id(&html, "kpi-diff-table");
    assert!(table.contains("<table"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("comparison.json")).expect("json")).expect("JSON");
    let kpis = report["kpis"].as_array().expect("kpis");
    assert_eq!(table.matches("<tr><td title=").count(), kpis.len(), "one row per KPI");
    for k in kpis {
        let name = k["kpi"].as_str().expect("name");
        assert!(table.contains(&format!(r#"<td title="{name}">"#)), "{name} in the table");
    }
}

/// The texts of the SVGs in `html` with their font sizes in pixels.
fn svg_texts(html: &str) -> Vec<(f64, String)> {
    html.split("<text")
        .skip(1)
        .map(|t| {
            let size = t.split("font-size=\"").nth(1).and_then(|r| r.split('"').next()).expect("a font size");
            let content = t.split_once('>').and_then(|(_, r)| r.split("</text>").next()).expect("text content");
            (size.parse().expect("a number"), content.trim().to_string())
        })
        .collect()
}

/// A number as the pages and the console write it: "+1,234.5", "−0.2%", "-3".
fn number(s: &str) -> Option<f64> {
    s.trim().trim_end_matches('%').replace(['+', ','], "").replace('\u{2212}', "-").parse().ok()
}

/// The decimals a written number has.
fn decimals(s: &str) -> usize {
    s.split_once('.').map_or(0, |(_, f)| f.chars().take_while(char::is_ascii_digit).count())
}

/// Every `<text>` of every chart is at least 11 px.
fn assert_readable_text(page: &str, html: &str) {
    let texts = svg_texts(html);
    assert!(!texts.is_empty());
    for (size, text) in texts {
        assert!(size >= 11.0, "{page}: text {text:?} is {size} px");
    }
}

#[test]
fn compare_table_is_grouped_naturally_ordered_rounded_and_fits_100_columns() {
    let dir = scratch("compare-table");
    let (weekday, holiday) = (scenario("weekday.toml"), scenario("holiday-peak.toml"));
    let out = storetwin(&["compare", &weekday, &holiday, "--replications", "3", "--out", dir.to_str().expect("utf-8")]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = stdout.lines().collect();
    for line in &lines {
        assert!(line.chars().count() <= 100, "{} characters: {line}", line.chars().count());
    }

    // Grouped under headings, in order; lanes and queues in natural order.
    let at =
        |line: &str| lines.iter().position(|l| *l == line).unwrap_or_else(|| panic!("no line {line:?}:\n{stdout}"));
    let starting = |prefix: &str| {
        lines.iter().position(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no line {prefix:?}:\n{stdout}"))
    };
    let headings = ["footfall & conversion", "sales", "queues", "lanes", "zones", "crowding", "sensors"].map(at);
    assert!(headings.is_sorted(), "groups in order: {headings:?}");
    // Crowding: the store-wide figures first, then each zone's densities; kiosks after the
    // checkout queues.
    let crowding = ["  slowed by crowds, per shopper (s)", "  door to first shelf (s)", "  aisles 1-2: mean density"];
    let crowding = crowding.map(starting);
    assert!(crowding.is_sorted() && headings[5] < crowding[0] && crowding[2] < headings[6], "{crowding:?}");
    let kiosk = starting("  kiosk-1: gave up waiting (shoppers)");
    assert!(starting("  line front: mean wait (s)") < kiosk && kiosk < headings[3], "kiosk after the lines");
    let lanes = ["  L1: utilisation (%)", "  L2: utilisation (%)", "  L9: utilisation (%)", "  L10: utilisation (%)"];
    let lanes = lanes.map(starting);
    assert!(lanes.is_sorted() && headings[3] < lanes[0] && lanes[3] < headings[4], "L1, L2, L9, L10: {lanes:?}");
    let queues = ["  L1: mean wait (s)", "  L2: mean wait (s)", "  L10: mean wait (s)"].map(starting);
    assert!(queues.is_sorted() && headings[2] < queues[0] && queues[2] < headings[3], "{queues:?}");
    // Units in the labels; per-zone dwell and conversion.
    for label in ["  sales (currency units)", "  conversion (%)", "  mean visit (s)", "  footfall (shoppers)"] {
        starting(label);
    }
    let zone = starting("  aisles 1-2: dwell per visitor (s)");
    assert!(zone > headings[4] && zone < headings[5]);
    starting("  aisles 1-2: conversion (%)");
    assert!(stdout.contains("Money is in the store's currency units"), "says what the money is");

    // A lane only B has is listed by name, not dropped.
    let only_b = at("only in B (not compared; mean ± 95% CI):");
    let sco7 = starting("  lane SCO7: utilisation (%)");
    assert!(sco7 > only_b, "SCO7 (holiday-peak's own) is listed after the table");

    // Difference and interval with the same decimals, sized so that the half-width has two
    // significant digits; no negative zero; a significant difference is never written 0.
    let mut rows = 0;
    for line in lines.iter().filter(|l| l.contains(" [") && l.contains(']')) {
        let (left, rest) = line.split_once(" [").expect("an interval");
        let (low, high) = rest.split_once(']').and_then(|(ci, _)| ci.split_once(", ")).expect("low, high");
        let diff = left.split_whitespace().last().expect("B - A");
        let (a, b) = {
            let mut t = left.split_whitespace().rev().skip(1);
            (t.next().expect("B"), t.next().expect("A"))
        };
        let cells = [a, b, diff, low, high];
        for cell in cells {
            let v = number(cell).unwrap_or_else(|| panic!("a number: {cell:?} in {line}"));
            assert!(!(v == 0.0 && cell.trim().starts_with('-')), "negative zero in {line}");
        }
        let d = decimals(diff);
        assert!(cells.iter().all(|c| decimals(c) == d), "same decimals throughout: {line}");
        let half = (number(high).expect("high") - number(low).expect("low")) / 2.0 * 10f64.powi(d as i32);
        if half > 0.0 && d > 0 {
            assert!((9.0..=100.5).contains(&half), "the half-width has two significant digits: {line}");
        }
        if line.ends_with('*') {
            assert_ne!(number(diff), Some(0.0), "a significant difference written as zero: {line}");
        }
        rows += 1;
    }
    assert!(rows > 60, "{rows} rows");

    // The same in --json and comparison.json: zones, and what only one scenario has.
    let out = storetwin(&["compare", &weekday, &holiday, "--replications", "3", "--json"]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("comparison.json")).expect("json")).expect("JSON");
    assert_eq!(json, file, "--json prints what comparison.json holds");
    let only_b = json["only_in_b"].as_array().expect("only_in_b");
    let sco7 = only_b.iter().find(|k| k["kpi"] == "lane[SCO7].utilisation").expect("SCO7 in only_in_b");
    assert_eq!(sco7["label"], "lane SCO7: utilisation (%)");
    assert!(sco7["value"]["mean"].as_f64().is_some_and(|u| u > 0.0 && u <= 1.0), "{sco7}");
    assert!(json["only_in_a"].is_array());
    let zone = kpi(&json, "zone[aisles 1-2].conversion");
    assert_eq!((&zone["group"], &zone["unit"]), (&serde_json::json!("zones"), &serde_json::json!("fraction")));
    kpi(&json, "zone[aisles 1-2].dwell_s");
    let density = kpi(&json, "zone[aisles 1-2].peak_density");
    assert_eq!((&density["group"], &density["unit"]), (&serde_json::json!("crowding"), &serde_json::json!("number")));
    assert_eq!(density["label"], "aisles 1-2: peak density (people/m²)");
    let kiosk = kpi(&json, "kiosk[kiosk-1].wait_mean_s");
    assert_eq!(
        (&kiosk["group"], &kiosk["label"]),
        (&serde_json::json!("queues"), &serde_json::json!("kiosk-1: mean wait (s)"))
    );

    // The page: zones in its table, the only-in-B list, readable text.
    let html = std::fs::read_to_string(dir.join("compare.html")).expect("compare.html");
    let table = by_id(&html, "kpi-diff-table");
    assert!(table.contains(r#"<td title="zone[aisles 1-2].dwell_s">"#) && table.contains(">Zones</th>"));
    let only = &html[html.find(r#"id="only-in-b""#).expect("an only-in-B list")..];
    assert!(only[..only.find("</ul>").expect("list end")].contains("Lane SCO7: utilisation (%)"));
    assert_readable_text("compare.html", &html);
}

#[test]
fn compare_page_axis_fits_the_differences_and_its_text_is_readable() {
    let dir = scratch("compare-axis");
    let (weekday, layout_b) = (scenario("weekday.toml"), scenario("layout-b.toml"));
    let out =
        storetwin(&["compare", &weekday, &layout_b, "--replications", "5", "--out", dir.to_str().expect("utf-8")]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(dir.join("compare.html")).expect("compare.html");
    assert_readable_text("compare.html", &html);
    for id in ["chart-differences", "chart-differences-wide"] {
        if id.ends_with("wide") && !html.contains(&format!(r#"id="{id}""#)) {
            continue;
        }
        let texts = svg_texts(by_id(&html, id));
        // Ticks are the bare percentages; each row's note is "value [low, high]".
        let ticks: Vec<f64> = texts
            .iter()
            .filter(|(_, t)| !t.contains(' '))
            .filter_map(|(_, t)| t.ends_with('%').then(|| number(t)).flatten())
            .collect();
        let reach = texts
            .iter()
            .filter_map(|(_, t)| t.split_once(" [").map(|(_, ci)| ci.trim_end_matches(']').to_string()))
            .flat_map(|ci| ci.split(", ").filter_map(number).collect::<Vec<_>>())
            .fold(0.0, |m: f64, v| m.max(v.abs()));
        let end = ticks.iter().fold(0.0, |m: f64, v| m.max(v.abs()));
        assert!(ticks.len() >= 5, "{id}: ticks {ticks:?}");
        assert!(ticks.contains(&end) && ticks.contains(&-end) && ticks.contains(&0.0), "{id}: symmetric {ticks:?}");
        assert!(end >= reach && (reach == 0.0 || end <= 1.7 * reach), "{id}: axis ±{end}% for intervals to ±{reach}%");
    }

    // The run's page shares the chart code: its text is readable too.
    let dir = scratch("report-text");
    let out = storetwin(&["run", &weekday, "--out", dir.to_str().expect("utf-8")]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert_readable_text("report.html", &std::fs::read_to_string(dir.join("report.html")).expect("report.html"));
}

#[test]
fn run_with_replications_prints_means_with_their_intervals() {
    let dir = scratch("run-means");
    let out =
        storetwin(&["run", &scenario("weekday.toml"), "--out", dir.to_str().expect("utf-8"), "--replications", "3"]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        stdout.contains("mean of 3 replications ± the half-width of its 95% confidence interval (95% CI)"),
        "{stdout}"
    );
    assert!(stdout.contains("replication 1's event_hash"), "{stdout}");
    let s = summary(&dir);
    for (name, key) in [("footfall", "footfall"), ("buyers", "buyers"), ("sales", "sales")] {
        let figure = stdout.split(&format!("{name} ")).nth(1).unwrap_or_else(|| panic!("{name} in {stdout}"));
        let (mean, rest) = figure.split_once(" ± ").unwrap_or_else(|| panic!("{name} ± its interval: {stdout}"));
        let half = rest.split([' ', ',', '%']).next().expect("half-width");
        let e = &s["replications"][key];
        let d = decimals(mean) as i32;
        let (mean_v, half_v) = (number(mean).expect("mean"), number(half).expect("half-width"));
        let tolerance = 0.51 * 10f64.powi(-d);
        assert!((mean_v - e["mean"].as_f64().expect("mean")).abs() <= tolerance, "{name}: {mean} vs {e}");
        assert!((half_v - e["ci95"].as_f64().expect("ci95")).abs() <= tolerance, "{name}: ± {half} vs {e}");
        assert_eq!(decimals(half), decimals(mean), "{name}: mean and half-width alike");
    }
    assert!(stdout.contains("longest waits at ") && stdout.contains(" s, max "), "{stdout}");
    let crowding = stdout.lines().find(|l| l.starts_with("  crowding: peak ")).unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(crowding.matches(" ± ").count(), 4, "each crowding figure with its interval: {crowding}");
}

#[test]
fn zero_threads_and_an_out_that_is_a_file_are_refused_before_anything_runs() {
    let weekday = scenario("weekday.toml");
    let dir = scratch("bad-args");
    let out_dir = dir.join("out");
    let out_dir = out_dir.to_str().expect("utf-8");
    for args in [
        vec!["run", &weekday, "--out", out_dir, "--threads", "0"],
        vec!["compare", &weekday, &weekday, "--threads", "0"],
    ] {
        let out = storetwin(&args);
        assert_eq!(out.status.code(), Some(2), "a usage error: {args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--threads must be at least 1"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    let file = dir.join("taken");
    std::fs::write(&file, "keep me").expect("write");
    let path = file.to_str().expect("utf-8");
    for args in [vec!["run", &weekday, "--out", path], vec!["compare", &weekday, &weekday, "--out", path]] {
        let out = storetwin(&args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("{path} is a file, expected a directory")), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "keep me", "the file is untouched");
    let entries: Vec<_> = std::fs::read_dir(&dir).expect("dir").filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert_eq!(entries, ["taken"], "nothing was written");
}

/// An attribute of an SVG element.
fn attr<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    element.split(&format!(" {name}=\"")).nth(1)?.split('"').next()
}

/// Relative luminance (WCAG 2) of "#RRGGBB".
fn luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).expect("hex colour")) / 255.0;
        if v <= 0.040_45 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
    };
    0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

/// Each number written on a cell of a heat map contrasts with the cell at least 4.5:1, and
/// there are at least `at_least` such numbers.
fn assert_numbers_contrast_with_their_cells(svg: &str, at_least: usize) {
    let rects: Vec<(f64, f64, f64, f64, &str)> = svg
        .split("<rect")
        .skip(1)
        .filter_map(|r| {
            let f = |n: &str| attr(r, n).and_then(|v| v.parse::<f64>().ok());
            Some((f("x")?, f("y")?, f("width")?, f("height")?, attr(r, "fill")?))
        })
        .collect();
    let mut checked = 0;
    for t in svg.split("<text").skip(1) {
        let content = t.split_once('>').and_then(|(_, r)| r.split("</text>").next()).unwrap_or("").trim();
        if content.parse::<f64>().is_err() {
            continue;
        }
        let (x, y) = (attr(t, "x").and_then(|v| v.parse::<f64>().ok()), attr(t, "y").and_then(|v| v.parse().ok()));
        let (x, y): (f64, f64) = (x.expect("x"), y.expect("y"));
        let Some(cell) = rects
            .iter()
            .filter(|(rx, ry, w, h, _)| *rx <= x && x <= rx + w && *ry <= y && y <= ry + h)
            .min_by(|a, b| (a.2 * a.3).total_cmp(&(b.2 * b.3)))
        else {
            continue;
        };
        let (a, b) = (luminance(cell.4), luminance(attr(t, "fill").expect("text colour")));
        let ratio = (a.max(b) + 0.05) / (a.min(b) + 0.05);
        assert!(ratio >= 4.5, "{content} in {} on {}: contrast {ratio:.2}", attr(t, "fill").unwrap_or("?"), cell.4);
        checked += 1;
    }
    assert!(checked >= at_least, "{checked} numbers checked");
}

#[test]
fn run_of_a_chain_writes_its_summary_timeseries_and_report() {
    let dir = scratch("chain-run");
    let args = ["run", &scenario("chain-3-stores.toml"), "--out", dir.to_str().expect("utf-8"), "--threads", "1"];
    let out = storetwin(&args);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let page = dir.join("report.html");
    assert!(stdout.contains(&format!("report: {}", page.display())), "the report's path is printed: {stdout}");
    assert!(!stdout.contains("not written yet"), "{stdout}");

    let s = summary(&dir);
    for section in ["run", "engine", "chain", "stores", "orders", "transfers", "members", "settlement", "coupons"] {
        assert!(s.get(section).is_some(), "summary.json has `{section}`");
    }
    assert_eq!(s["run"]["kind"], "chain");
    let stores = s["stores"].as_array().expect("stores");
    let names: Vec<&str> = stores.iter().map(|st| st["name"].as_str().expect("a name")).collect();
    assert_eq!(names, ["riverside", "old-town", "station"]);
    let channels: Vec<&str> = s["orders"]["by_channel"]
        .as_array()
        .expect("channels")
        .iter()
        .map(|c| c["channel"].as_str().expect("a name"))
        .collect();
    assert_eq!(channels, ["app", "mini_program", "web", "kiosk"]);
    assert_eq!(s["settlement"]["reconciliation"]["holds"], true);
    // The chain's sales are its stores' sales.
    let sales: f64 = stores.iter().map(|st| f(&st["sales"])).sum();
    assert!((f(&s["chain"]["sales"]) - sales).abs() < 0.01);
    // Ship to store: every unit sent is received or in transit, in orders and in units, and
    // the stores' books say the same; some arrived and were collected within the day.
    let t = &s["transfers"];
    assert!(f(&t["sent"]) > 50.0 && f(&t["received"]) > 20.0 && f(&t["collected"]) > 10.0, "{t}");
    assert_eq!(f(&t["sent"]), f(&t["received"]) + f(&t["in_transit_at_close"]), "{t}");
    assert_eq!(f(&t["units_sent"]), f(&t["units_received"]) + f(&t["units_in_transit_at_close"]), "{t}");
    let of_stores = |key: &str| stores.iter().map(|st| f(&st["online"][key])).sum::<f64>();
    assert_eq!(of_stores("transfer_units_sent"), f(&t["units_sent"]));
    assert_eq!(of_stores("transfer_units_received"), f(&t["units_received"]));
    assert_eq!(f(&t["kiosk_collect_orders"]) + f(&t["kiosk_deliver_orders"]), f(&s["chain"]["kiosk_orders"]));
    let kiosk = &s["orders"]["by_channel"][3];
    assert_eq!(f(&kiosk["open_in_transit"]), f(&t["in_transit_at_close"]));
    assert!(stdout.contains(&format!("{} transfers sent, {} received", t["sent"], t["received"])), "{stdout}");

    // timeseries.csv: one row a minute, 08:00 to 20:00; arrivals add up to the shoppers.
    let csv = std::fs::read_to_string(dir.join("timeseries.csv")).expect("timeseries.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    assert!(header.contains(&"occupancy[station]"), "{header:?}");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 12 * 60 + 1);
    assert_eq!((rows[0][1], rows[rows.len() - 1][1]), ("08:00", "20:00"));
    let entered = header.iter().position(|h| *h == "entered").expect("an entered column");
    let arrivals: f64 = rows.iter().map(|r| r[entered].parse::<f64>().expect("a count")).sum();
    assert_eq!(arrivals, f(&s["chain"]["shoppers_in_store"]));

    // report.html: one self-contained page with every section and the summary's figures.
    let html = std::fs::read_to_string(&page).expect("report.html");
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"), "a whole page");
    let without_namespace = html.replace(r#"xmlns="http://www.w3.org/2000/svg""#, "");
    for needle in ["http://", "https://", "src=", "href=", "<script", "<link", "<img", "@import", "url("] {
        assert!(!without_namespace.contains(needle), "the report must not reference anything outside it: {needle}");
    }
    for id in ["stores", "over-the-day", "orders", "coupons", "settlement", "members"] {
        assert!(html.contains(&format!(r#"<section id="{id}">"#)), "a section {id}");
    }
    let text = text_of(&html);
    assert!(text.contains(&format!("Sales in store {}", thousands(f(&s["chain"]["sales"])))), "the sales card");
    let shipped = text_of(by_id(&html, "transfer-table"));
    let (sent, received) = (thousands(f(&s["transfers"]["sent"])), thousands(f(&s["transfers"]["received"])));
    assert!(text.contains(&format!("{sent} transfers were sent and {received} received")), "{text}");
    assert!(shipped.contains(&format!("{sent} {received}")), "{shipped}");
    assert!(text.contains(&format!("All parties (= paid) {}", grouped(f(&s["settlement"]["paid"]), 2))));
    let identities = s["settlement"]["reconciliation"]["identities"].as_u64().expect("a count");
    assert!(text.contains(&format!("Every identity {identities} {identities} holds")), "every identity holds");
    let coupons = html.split(r#"<section id="coupons">"#).nth(1).and_then(|c| c.split("</section>").next());
    let coupons = text_of(coupons.expect("the coupon section"));
    let campaigns = s["coupons"].as_array().expect("coupons per campaign");
    assert!(coupons.contains(&format!("{} campaigns issued", campaigns.len())), "{coupons}");
    for c in campaigns {
        let (name, issued) = (c["name"].as_str().expect("a name"), thousands(f(&c["issued"])));
        assert!(coupons.contains(&format!("{name} {issued}")), "{name}: {issued} issued in the table: {coupons}");
    }
    // The store table ranks by sales, best first.
    let mut by_sales: Vec<(f64, &str)> =
        stores.iter().map(|st| (f(&st["sales"]), st["name"].as_str().expect("a name"))).collect();
    by_sales.sort_by(|a, b| b.0.total_cmp(&a.0));
    let at = |name: &str| html.find(&format!(r#"data-store="{name}""#)).expect("a row per store");
    assert!(at(by_sales[0].1) < at(by_sales[1].1) && at(by_sales[1].1) < at(by_sales[2].1));
    let leftovers = std::fs::read_dir(&dir).expect("dir").filter_map(|e| e.ok());
    assert!(leftovers.filter(|e| e.file_name().to_string_lossy().ends_with(".tmp")).count() == 0);
}

#[test]
fn compare_of_two_chains_shows_one_more_picker_per_store_picks_faster() {
    let dir = scratch("compare-chains");
    let (a, b) = (scenario("chain-3-stores.toml"), scenario("chain-3-stores-more-pickers.toml"));
    let out = dir.to_str().expect("utf-8");
    let report = compare_json_reps(&a, &b, "2", &["--threads", "1", "--out", out]);
    assert_eq!(report["a"]["kind"], "chain");
    assert_eq!(report["common_random_numbers"], true);
    for k in report["kpis"].as_array().expect("kpis") {
        assert_ne!(k["group"], "other", "every chain KPI is described in kpi.rs: {k}");
    }
    // One more picker in each store: orders are picked sooner, more of them within target.
    for name in ["orders.pick_p50_s", "orders.pick_p90_s", "store[riverside].online.mean_pick_s"] {
        let k = kpi(&report, name);
        assert!(k["diff"]["mean"].as_f64().expect("a difference") < 0.0, "{name} is shorter: {k}");
        assert!(k["b"].as_f64().expect("B") < k["a"].as_f64().expect("A"), "{k}");
    }
    let within = kpi(&report, "orders.within_target");
    assert!(within["diff"]["mean"].as_f64().expect("a difference") > 0.1, "{within}");
    assert_eq!(within["label"], "picked within target (%)");
    assert_eq!(kpi(&report, "store[station].online.within_target")["label"], "station: picked within target (%)");
    // The same shoppers come to the stores in both.
    for name in ["chain.shoppers", "store[old-town].footfall", "store[station].footfall"] {
        assert_eq!(kpi(&report, name)["diff"]["mean"], 0.0, "{name}");
    }
    assert_eq!(report["only_in_a"], serde_json::json!([]), "the same stores in both");
    assert_eq!(report["only_in_b"], serde_json::json!([]));

    // The files: comparison.json is the same object, compare.html has the chain's headlines
    // and no floors (a chain has one per store).
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("comparison.json")).expect("json")).expect("JSON");
    assert_eq!(written["kpis"], report["kpis"]);
    let html = std::fs::read_to_string(dir.join("compare.html")).expect("compare.html");
    let text = text_of(&html);
    assert!(text.contains("Picked within target") && text.contains("p90 pick time"), "chain headline cards");
    assert!(!html.contains(r#"id="floor-a""#));
    assert!(html.contains(r#"id="chart-occupancy-ab""#));
    let table = by_id(&html, "kpi-diff-table");
    assert_eq!(table.matches("<tr><td title=").count(), report["kpis"].as_array().expect("kpis").len());
}

#[test]
fn a_chain_is_not_compared_with_a_store() {
    for (a, b) in [("chain-3-stores.toml", "weekday.toml"), ("weekday.toml", "chain-3-stores.toml")] {
        let out = storetwin(&["compare", &scenario(a), &scenario(b), "--replications", "2"]);
        assert!(!out.status.success(), "{a} vs {b} is refused");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("cannot compare a chain with a store"), "{stderr}");
        assert!(stderr.contains("chain-3-stores.toml is a chain file"), "{stderr}");
        assert!(out.stdout.is_empty(), "nothing ran");
    }
}

/// Every bundled chain closes its books: the 100-store chain's whole day, on two shard
/// threads, reconciles to the cent and keeps every invariant (a broken one fails the run).
#[test]
fn the_hundred_store_chain_reconciles_on_two_threads() {
    let dir = scratch("chain-100");
    let args = ["run", &scenario("chain-100-stores.toml"), "--out", dir.to_str().expect("utf-8"), "--threads", "2"];
    let out = storetwin(&args);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let s = summary(&dir);
    assert_eq!(s["stores"].as_array().map(Vec::len), Some(100));
    assert_eq!(s["settlement"]["reconciliation"]["holds"], true, "{}", s["settlement"]["reconciliation"]);
    let shoppers = f(&s["chain"]["shoppers_in_store"]);
    assert!((900_000.0..1_000_000.0).contains(&shoppers), "{shoppers} shoppers in store");
    assert!(f(&s["chain"]["online_orders"]) > 30_000.0);
    let t = &s["transfers"];
    assert!(f(&t["sent"]) > 1_000.0, "{t}");
    assert_eq!(f(&t["units_sent"]), f(&t["units_received"]) + f(&t["units_in_transit_at_close"]), "{t}");
    assert_eq!(s["engine"]["shard_hashes"].as_array().map(Vec::len), Some(101));
}

/// `storetwin load` of a three-store flash sale with `protocol`: its exit code, stdout and
/// summary.json.
fn load(file: &str, out: &str) -> (Option<i32>, String, String, Option<serde_json::Value>) {
    let dir = scratch(out);
    let o = storetwin(&["load", &scenario(file), "--out", dir.to_str().unwrap(), "--threads", "2"]);
    let json = std::fs::read_to_string(dir.join("summary.json")).ok().map(|t| serde_json::from_str(&t).expect("JSON"));
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        json,
    )
}

#[test]
fn an_atomic_flash_sale_load_test_passes_its_thresholds_and_never_oversells() {
    let (code, stdout, stderr, json) = load("flash-3-stores-atomic.toml", "load-atomic");
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    for section in ["THRESHOLDS", "INVARIANTS", "FLASH SALE", "SHOPPERS", "STOCK HOLDER", "ENGINE"] {
        assert!(stdout.contains(section), "{section} missing:\n{stdout}");
    }
    assert!(stdout.contains("(simulated time)"), "{stdout}");
    let json = json.expect("summary.json");
    let flash = &json["flash_sale"];
    let sold = flash["sold"].as_u64().unwrap() + flash["reserved_at_end"].as_u64().unwrap();
    assert!(sold <= 600 && sold > 500, "{flash}");
    assert!(flash["sellout_s"].as_f64().is_some(), "600 units for 40,000 grabs sell out");
    assert_eq!(json["passed"], true);
    assert!(json["thresholds"].as_array().unwrap().len() >= 2);
    // The invariants are the run's checks on its books, money included: what the sale
    // took is what settlement booked.
    let invariants = json["invariants"].as_array().expect("invariants");
    assert!(invariants.iter().all(|i| i["held"] == true), "{invariants:?}");
    let money = invariants.iter().find(|i| i["name"].as_str().unwrap().starts_with("money")).expect("money");
    assert!(money["detail"].as_str().unwrap().contains("units paid at 1.99"), "{money}");
    assert_eq!(flash["payments_booked"], flash["sold"], "{flash}");
}

/// The bundled pre-order sale runs for days: the cheaper tier fills and ships, the Jan 15
/// tier misses its minimum and refunds every order, and the money adds up.
#[test]
fn the_bundled_pre_order_sale_cancels_the_tier_below_its_minimum_and_refunds_it() {
    let (code, stdout, stderr, json) = load("flash-3-stores-preorder.toml", "load-preorder");
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("PRE-ORDERS"), "{stdout}");
    let line =
        |needle: &str| stdout.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle}: {stdout}"));
    assert!(line("tier ship-jan-15").contains("cancelled"), "{stdout}");
    assert!(line("tier ship-jan-25").contains("shipped"), "{stdout}");
    assert!(line("run goes on to 24.0 days").contains("the stores trade for 12.0 h"), "{stdout}");
    let json = json.expect("summary.json");
    let tiers = json["preorders"]["tiers"].as_array().expect("tiers");
    let tier = |name: &str| tiers.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("{name}: {tiers:?}"));
    let (cancelled, shipped) = (tier("ship-jan-15"), tier("ship-jan-25"));
    assert_eq!(cancelled["state"], "cancelled");
    let orders = cancelled["orders"].as_u64().unwrap();
    assert!(orders > 0 && orders < 30, "{cancelled}");
    assert_eq!(cancelled["refunds"].as_u64(), Some(orders), "every order refunded");
    assert_eq!(cancelled["refunded"], cancelled["paid"], "{cancelled}");
    assert_eq!((shipped["state"].as_str(), shipped["orders"].as_u64()), (Some("shipped"), Some(100)));
    assert_eq!(shipped["shipped"].as_u64(), Some(100));
    let p = &json["preorders"];
    assert_eq!(p["refunds_received"].as_u64(), Some(orders), "every refund reached its store: {p}");
    let invariants = json["invariants"].as_array().expect("invariants");
    assert!(invariants.iter().all(|i| i["held"] == true), "{invariants:?}");
    let money = invariants.iter().find(|i| i["name"].as_str().unwrap().starts_with("money")).expect("money");
    assert!(money["detail"].as_str().unwrap().contains("pre-orders paid"), "{money}");
}

#[test]
fn a_tier_that_ships_before_its_window_closes_exits_104_naming_the_line() {
    let dir = scratch("load-bad-tier");
    let file = dir.join("bad-tier.toml");
    std::fs::write(
        &file,
        format!(
            "extends = \"{}\"\n\n[[flash_sale.preorder]]\nname = \"ship-jan-15\"\nships = \"5d\"\n",
            scenario("flash-3-stores-preorder.toml")
        ),
    )
    .unwrap();
    let o = storetwin(&["load", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(104), "{stderr}");
    assert!(stderr.contains("bad-tier.toml:5:9"), "{stderr}");
    assert!(stderr.contains("a tier ships at or after its order"), "{stderr}");
    assert!(stderr.contains("expected \"10d\" (when the window closes) or later"), "{stderr}");
}

#[test]
fn a_threshold_crossed_on_purpose_exits_99() {
    let dir = scratch("load-fail-file");
    let file = dir.join("tight.toml");
    std::fs::write(
        &file,
        format!(
            "extends = \"{}\"\n\n[load.thresholds]\ngrab_latency = [\"p(95)<10ms\"]\n",
            scenario("flash-3-stores-atomic.toml")
        ),
    )
    .unwrap();
    let out = scratch("load-fail");
    let o = storetwin(&["load", file.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(99), "{stdout}");
    assert!(stdout.contains("✗ 'p(95)<10ms'"), "{stdout}");
    assert_eq!(summary(&out)["passed"], false);
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(html.contains("1 of 2 thresholds were crossed: exit code 99."), "the page says what the exit code says");
    assert!(
        html.contains("✗</td><td class=\"t\"><code>grab_latency</code></td><td class=\"t\"><code>p(95)&lt;10ms</code>")
    );
}

/// `--out` writes the load test's page beside summary.json and timeseries.csv: every chart
/// and every threshold of the file on it, and the CSV's levels agree with the summary.
#[test]
fn a_load_test_writes_a_report_with_every_chart_and_threshold() {
    let dir = scratch("load-report");
    let o =
        storetwin(&["load", &scenario("flash-3-stores-atomic.toml"), "--out", dir.to_str().unwrap(), "--threads", "2"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("report.html") && !stdout.contains("not built yet"), "{stdout}");
    let html = std::fs::read_to_string(dir.join("report.html")).expect("report.html");
    for title in [
        "Arrival rate against target",
        "Grab latency percentiles over time",
        "Sell-through against the quota",
        "Sell-through per store",
        "Reservations outstanding and expired",
        "Retries and timeouts",
    ] {
        assert!(html.contains(&format!("<figcaption>{title}")), "no chart {title}");
    }
    assert_eq!(html.matches("<svg").count(), 6);
    let json = summary(&dir);
    let thresholds = json["thresholds"].as_array().expect("thresholds");
    assert_eq!(thresholds.len(), 2, "grab_latency p(95) and grab_failed rate");
    for t in thresholds {
        let (metric, threshold) = (t["metric"].as_str().unwrap(), t["threshold"].as_str().unwrap());
        let mark = if t["passed"] == true { "✓" } else { "✗" };
        let row = format!(
            "{mark}</td><td class=\"t\"><code>{metric}</code></td><td class=\"t\"><code>{}</code>",
            threshold.replace('<', "&lt;").replace('>', "&gt;")
        );
        assert!(html.contains(&row), "no row {row}");
        assert!(html.contains(t["observed"].as_str().unwrap()), "{t}");
    }
    for invariant in ["no oversell", "stock conserved per SKU and store", "settlement reconciles"] {
        assert!(html.contains(invariant), "{invariant}");
    }
    assert!(html.contains("Latencies are simulated time"));
    assert_readable_text("load report.html", &html);

    // The CSV's flows add up to the summary's totals, and its levels end where the run did.
    let csv = std::fs::read_to_string(dir.join("timeseries.csv")).expect("timeseries.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let sum = |name: &str| rows.iter().map(|r| r[col(name)].parse::<u64>().expect("a count")).sum::<u64>();
    let last = |name: &str| rows.last().expect("rows")[col(name)].parse::<i64>().expect("a level");
    let flash = &json["flash_sale"];
    let n = |v: &serde_json::Value| v.as_u64().expect("a count");
    assert_eq!(sum("shoppers"), n(&json["shoppers"]["arrived"]));
    assert_eq!(last("units_sold") as u64, n(&flash["sold"]));
    assert_eq!(last("reservations_outstanding") as u64, n(&flash["reserved_at_end"]));
    assert_eq!(sum("reservations_paid"), n(&flash["sold"]));
    assert!(sum("grab_retries") <= sum("grab_timeouts"));
    assert!(
        rows.iter().all(|r| r[col("units_taken")].parse::<i64>().expect("a level") <= 600),
        "never above the quota"
    );
}

/// An `abort_on_fail` threshold stops the run as soon as it is crossed (judged every 2 s
/// of simulated time, after its delay), not at the end.
#[test]
fn an_abort_on_fail_threshold_stops_the_run_early_with_exit_99() {
    let dir = scratch("load-abort-file");
    let file = dir.join("abort.toml");
    std::fs::write(
        &file,
        format!(
            "extends = \"{}\"\n\n[load.thresholds]\ngrab_latency = [{{ threshold = \"p(95)<20ms\", abort_on_fail = true, \
             delay_abort_eval = \"11m\" }}]\n",
            scenario("flash-3-stores-atomic.toml")
        ),
    )
    .unwrap();
    let out = scratch("load-abort");
    let o = storetwin(&["load", file.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(99), "{stdout}");
    assert!(stdout.contains("abort_on_fail threshold(s) crossed: grab_latency p(95)<20ms"), "{stdout}");
    let s = summary(&out);
    let at = s["aborted"]["at_s"].as_f64().expect("the stop time");
    // The delay is 11 min from the start; the run would have gone to 35.5 min.
    assert!((660.0..=662.0).contains(&at), "stopped at {at} s");
    assert_eq!(s["passed"], false);
}

/// The closed model (`ramping-shoppers`: so many shoppers at once, each starting again as
/// the last journey ends) and the `ordinary_shopping` journey (more of the stores' own
/// shoppers, walking and queueing) run alongside the bundled scenarios.
#[test]
fn closed_shoppers_and_ordinary_shopping_load_the_chain() {
    let dir = scratch("load-closed-file");
    let file = dir.join("closed.toml");
    std::fs::write(
        &file,
        format!(
            "extends = \"{}\"\n\n[load.scenarios.loop]\nexecutor = \"ramping-shoppers\"\njourney = \"grab_online\"\n\
             start_time = \"10m\"\nstages = [{{ duration = \"30s\", target = 30 }}, {{ duration = \"2m\", target = 30 }}]\n\n\
             [load.scenarios.crowd]\nexecutor = \"constant-arrival-rate\"\njourney = \"ordinary_shopping\"\n\
             start_time = \"5m\"\nrate = 2\ntime_unit = \"1s\"\nduration = \"20m\"\n",
            scenario("flash-3-stores-atomic.toml")
        ),
    )
    .unwrap();
    let out = scratch("load-closed");
    let o = storetwin(&["load", file.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(matches!(o.status.code(), Some(0 | 99)), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("crowd") && stdout.contains("(ordinary_shopping, constant-arrival-rate)"), "{stdout}");
    let s = summary(&out);
    let by = &s["shoppers"]["by_scenario"];
    let crowd = by["crowd"].as_f64().unwrap();
    assert!((crowd - 2400.0).abs() < 200.0, "2 a second for 20 min: {crowd}");
    assert_eq!(s["shoppers"]["peak_in_flight"]["loop"], 30, "{}", s["shoppers"]);
    assert!(by["loop"].as_f64().unwrap() > 300.0, "30 shoppers grabbing again and again: {by}");
    let (_, _, _, base) = load("flash-3-stores-atomic.toml", "load-closed-base");
    let base = base.expect("summary.json");
    let extra = f(&s["in_store"]["footfall"]) - f(&base["in_store"]["footfall"]);
    assert!((extra - crowd).abs() < 1.0, "the ordinary shoppers come through the doors: {extra} more, {crowd} sent");

    let refused = dir.join("refused.toml");
    std::fs::write(
        &refused,
        format!(
            "extends = \"{}\"\n\n[load.scenarios.crowd]\nexecutor = \"constant-shoppers\"\njourney = \"ordinary_shopping\"\n\
             shoppers = 10\nduration = \"1m\"\n",
            scenario("flash-3-stores-atomic.toml")
        ),
    )
    .unwrap();
    let o = storetwin(&["load", refused.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(104), "{stderr}");
    assert!(stderr.contains("not built yet"), "{stderr}");
}

#[test]
fn the_unsafe_protocol_is_stopped_by_the_oversell_invariant_with_exit_111() {
    let (code, stdout, stderr, _) = load("flash-3-stores-unsafe.toml", "load-unsafe");
    assert_eq!(code, Some(111), "{stdout}\n{stderr}");
    assert!(stdout.contains("✗ flash sale: sold + reserved <= quota"), "{stdout}");
    assert!(stderr.contains("seed 20240611"), "the error names the seed to rerun: {stderr}");
}

#[test]
fn a_load_test_is_the_same_on_one_and_two_threads() {
    let hash = |threads: &str| {
        let o = storetwin(&["load", &scenario("flash-3-stores-demarcation.toml"), "--threads", threads]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        // The stores hold the quota: the sell-out is read from their books, to the second.
        assert!(stdout.contains("sell-out") && stdout.contains("(the stores' books, to the second)"), "{stdout}");
        stdout
            .lines()
            .find(|l| l.contains("event_hash"))
            .expect("an event_hash line")
            .split(':')
            .nth(1)
            .unwrap()
            .trim()
            .to_string()
    };
    assert_eq!(hash("1"), hash("2"));
}

#[test]
fn an_invalid_load_test_exits_104_naming_the_line() {
    let dir = scratch("load-bad");
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        format!(
            "extends = \"{}\"\n\n[load.thresholds]\ngrab_latency = [\"p(95)<<10ms\"]\n",
            scenario("flash-3-stores-atomic.toml")
        ),
    )
    .unwrap();
    let o = storetwin(&["load", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(104), "{stderr}");
    assert!(stderr.contains("bad.toml:4"), "{stderr}");
}
