//! `device_degraded` disruptions: parsed to the runtime's kind, and checked.

mod common;

use common::{MINI, load_mini, only_problem, place};
use storetwin_actors::store::spec::{DeviceId, DisruptionKind};

#[test]
fn a_degraded_device_is_resolved_by_name() {
    let text = format!(
        "{MINI}\n[[disruption]]\nat = \"09:00\"\nuntil = \"10:00\"\ndevice_degraded = {{ device = \"door\", accuracy = 0.5 }}\n"
    );
    let scenario = load_mini(&text).expect("loads");
    let last = scenario.world.store.disruptions.last().expect("a disruption");
    assert_eq!(last.what, DisruptionKind::DeviceDegraded { device: DeviceId(0), accuracy: 0.5 });
}

#[test]
fn accuracy_outside_zero_to_one_is_an_error_pointing_at_it() {
    let text =
        format!("{MINI}\n[[disruption]]\nat = \"09:00\"\ndevice_degraded = {{ device = \"door\", accuracy = 1.5 }}\n");
    let problem = only_problem(&text);
    assert!(problem.message().contains("accuracy must be in (0, 1]"), "{}", problem.message());
    assert!(place(&problem).starts_with("mini.toml:"), "{}", place(&problem));
}
