//! What the window tests share: an X server of their own and the twin run on it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

/// An Xvfb server, stopped when dropped.
pub struct Xvfb {
    child: Child,
    pub display: String,
}

impl Xvfb {
    pub fn start() -> Xvfb {
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is needed for the twin's window tests: apt-get install xvfb mesa-vulkan-drivers");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("Xvfb names its display");
        let display = format!(":{}", line.trim());
        assert!(line.trim().parse::<u32>().is_ok(), "Xvfb printed {line:?}");
        Xvfb { child, display }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `storetwin-twin` with `args` on `x`'s display, echoing its output.
pub fn twin(x: &Xvfb, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_storetwin-twin"))
        .args(args)
        .env("DISPLAY", &x.display)
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("storetwin-twin runs");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out
}
