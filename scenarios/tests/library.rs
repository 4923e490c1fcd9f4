//! Every bundled scenario (store scenarios and chain files) loads, and says in its header
//! what question it answers.

use std::path::Path;

use storetwin_scenarios::{Chain, FileKind};

#[test]
fn every_bundled_scenario_loads_and_has_a_header() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).expect("scenarios dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") && path.file_name().is_some_and(|n| n != "Cargo.toml") {
            let text = std::fs::read_to_string(&path).expect("readable");
            assert!(text.starts_with('#'), "{} starts with a comment header", path.display());
            let loaded = match storetwin_scenarios::file_kind(&path) {
                Ok(FileKind::Store) => storetwin_scenarios::load(&path).map(drop),
                Ok(FileKind::Chain) => Chain::load(&path).map(drop),
                Err(e) => Err(e),
            };
            if let Err(e) = loaded {
                panic!("{} does not load: {:?}", path.display(), miette::Report::new(e));
            }
            names.push(path.file_name().expect("name").to_string_lossy().into_owned());
        }
    }
    names.sort();
    for expected in [
        "chain-100-stores.toml",
        "chain-3-stores.toml",
        "device-failures.toml",
        "flash-3-stores-preorder.toml",
        "holiday-peak.toml",
        "layout-b.toml",
        "promo-endcap.toml",
        "staffing-lean.toml",
        "weekday.toml",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} is bundled: {names:?}");
    }
}
