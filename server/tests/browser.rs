//! The browser view (`GET /`, `server/web/index.html`) in a real headless Chromium, against a
//! real server started in-process on a free port with a viewer and an operator token.
//!
//! One test takes a screenshot with Chromium's own `--screenshot` and checks that it shows the
//! live floor; the others drive the page over the Chrome DevTools Protocol (a WebSocket to
//! the browser, `Runtime.evaluate` to read the DOM and to click) and check what the click
//! did through the server's REST API and its session log. Chromium must be installed
//! (Debian: `apt-get install chromium`, as `.ci/run` does): without it these tests fail and
//! say so. Every wait polls for its condition under a deadline; Chromium is killed, its
//! whole process group, when a test ends or fails.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use storetwin_server::auth::{Role, Tokens};
use storetwin_server::{Options, Running};

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/weekday.toml");
const VIEWER: &str = "viewer-token-browser-test-0001";
const OPERATOR: &str = "operator-token-browser-test-0001";
/// How long anything the page should do may take on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(60);

/// One browser and one server at a time: the machine may have two cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A directory of its own under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!("storetwin-browser-{what}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Chromium's last children may still be writing for a moment after the kill.
        for _ in 0..20 {
            if std::fs::remove_dir_all(&self.0).is_ok() || !self.0.exists() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

// ---- the server ------------------------------------------------------------------------

/// The server, stopped on drop.
struct Server {
    running: Option<Running>,
    addr: SocketAddr,
    log: PathBuf,
    _dir: TempDir,
}

impl Server {
    /// The weekday store at 60x (an hour of the day a minute): lanes L7-L10 are closed at
    /// opening and the lane policy opens them only when a queue reaches 4, which the quiet
    /// first minutes of the morning do not see.
    fn start() -> Server {
        let dir = TempDir::new("server");
        let log = dir.0.join("session.log");
        let mut tokens = Tokens::default();
        tokens.add(Role::Viewer, VIEWER).expect("a valid viewer token");
        tokens.add(Role::Operator, OPERATOR).expect("a valid operator token");
        let mut options = Options::new(SCENARIO, &log);
        options.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        options.speed = 60.0;
        options.tokens = tokens;
        let running = storetwin_server::start(options).expect("the server starts");
        let addr = running.addr;
        Server { running: Some(running), addr, log, _dir: dir }
    }

    fn page_url(&self, token: &str) -> String {
        format!("http://{}/#token={token}", self.addr)
    }

    /// `GET path` with a token: the status and the JSON body.
    fn get(&self, path: &str, token: &str) -> (u16, Value) {
        http(self.addr, "GET", path, token, None)
    }

    fn kpis(&self) -> Value {
        let (status, body) = self.get("/v1/kpis", OPERATOR);
        assert_eq!(status, 200, "GET /v1/kpis: {body}");
        body
    }

    fn lane(&self, name: &str) -> Value {
        let kpis = self.kpis();
        kpis["lanes"]
            .as_array()
            .and_then(|lanes| lanes.iter().find(|l| l["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no lane {name} in {kpis}"))
    }

    /// The closed lanes that are not down, by name.
    fn closed_lanes(&self) -> Vec<String> {
        let kpis = self.kpis();
        kpis["lanes"]
            .as_array()
            .expect("lanes")
            .iter()
            .filter(|l| l["open"] == false && l["down"] == false)
            .map(|l| l["name"].as_str().expect("a lane's name").to_owned())
            .collect()
    }

    /// The session log's lines so far.
    fn log_lines(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_else(|e| panic!("{}: {e}", self.log.display()));
        text.lines().filter_map(|line| serde_json::from_str::<Value>(line).ok()).collect()
    }

    /// The interventions the session log holds, once it has written two more checkpoints
    /// than now (it writes the inputs it took before each checkpoint, and flushes there).
    fn logged_interventions(&self) -> Vec<Value> {
        let checks = |lines: &[Value]| lines.iter().filter(|l| l.get("check").is_some()).count();
        let before = checks(&self.log_lines());
        let deadline = Instant::now() + PATIENCE;
        loop {
            let lines = self.log_lines();
            if checks(&lines) >= before + 2 {
                return lines.iter().filter_map(|v| v.get("intervention").cloned()).collect();
            }
            assert!(Instant::now() < deadline, "the session log wrote no checkpoint in {PATIENCE:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop();
        }
    }
}

/// A plain HTTP/1.1 request (the answer is read to the end: `Connection: close`).
fn http(addr: SocketAddr, method: &str, path: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("connect to the server");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("a read timeout");
    stream.set_write_timeout(Some(Duration::from_secs(10))).expect("a write timeout");
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send the request");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read the answer");
    let text = String::from_utf8_lossy(&answer);
    let (head, rest) =
        text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("{method} {path}: no header end in {text:?}"));
    let status =
        head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{method} {path}: {head}"));
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.to_ascii_lowercase().contains("chunked")
    });
    let payload = if chunked { dechunk(rest) } else { rest.to_owned() };
    let value = serde_json::from_str(&payload).unwrap_or(Value::String(payload));
    (status, value)
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

// ---- the browser -----------------------------------------------------------------------

/// The Chromium binary: `STORETWIN_CHROMIUM`, or the first of the usual names on `PATH`.
fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("STORETWIN_CHROMIUM") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "the browser tests need Chromium, and there is none on PATH (looked for chromium, chromium-browser, \
         google-chrome): install it (Debian/Ubuntu: `apt-get install chromium`; `.ci/run` does) or set \
         STORETWIN_CHROMIUM to its path"
    );
}

/// The flags every run shares: headless, no sandbox (CI runs as root), no GPU, a profile of
/// its own, nothing that reaches out to the network on its own.
fn base_args(profile: &Path) -> Vec<String> {
    [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1600,900",
        "--force-device-scale-factor=1",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect()
}

/// A Chromium process (and its children, in a process group of their own), killed on drop.
struct Chromium {
    child: Child,
    dir: TempDir,
}

impl Chromium {
    fn spawn(args: &[String], dir: TempDir) -> Chromium {
        let binary = chromium();
        let child = Command::new(&binary)
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.0.join("stdout.txt")).expect("a stdout file"))
            .stderr(std::fs::File::create(dir.0.join("stderr.txt")).expect("a stderr file"))
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        Chromium { child, dir }
    }

    /// Waits for the process to end by itself, at most `timeout`; its exit code.
    fn wait(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.0.join("stderr.txt")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().filter(|l| !l.contains("dbus")).collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // The whole group: the browser and its renderer, GPU and utility processes.
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.child.id())]).status();
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// One page of a Chromium run with `--remote-debugging-port=0`, driven over the DevTools
/// Protocol: a WebSocket to the browser, the page a target attached to it in flat mode.
struct Page {
    ws: tungstenite::WebSocket<TcpStream>,
    session: String,
    next_id: u64,
    browser: Chromium,
}

impl Page {
    fn open() -> Page {
        let dir = TempDir::new("chromium");
        let mut args = base_args(&dir.0);
        args.extend(["--remote-debugging-port=0".to_owned(), "about:blank".to_owned()]);
        let mut browser = Chromium::spawn(&args, dir);
        // Chromium writes the port it took, and the browser target's path, when it listens.
        let file = browser.dir.0.join("DevToolsActivePort");
        let deadline = Instant::now() + PATIENCE;
        let (port, path) = loop {
            if let Ok(text) = std::fs::read_to_string(&file) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next())
                    && let Ok(port) = port.trim().parse::<u16>()
                {
                    break (port, path.trim().to_owned());
                }
            }
            if let Ok(Some(status)) = browser.child.try_wait() {
                panic!("Chromium ended ({status}) before it listened:\n{}", browser.stderr_tail());
            }
            assert!(
                Instant::now() < deadline,
                "Chromium did not write {} in {PATIENCE:?}:\n{}",
                file.display(),
                browser.stderr_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stream =
            TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("connect to Chromium's DevTools port");
        stream.set_read_timeout(Some(Duration::from_secs(30))).expect("a read timeout");
        let (ws, _) = tungstenite::client(format!("ws://{addr}{path}"), stream)
            .unwrap_or_else(|e| panic!("the DevTools WebSocket handshake failed: {e}"));
        // From here a read waits a little at a time, so that every wait keeps its deadline.
        ws.get_ref().set_read_timeout(Some(Duration::from_millis(250))).expect("a read timeout");
        let mut page = Page { ws, session: String::new(), next_id: 0, browser };
        let target = page.call(None, "Target.createTarget", json!({ "url": "about:blank" })).expect("a new page");
        let target = target["targetId"].as_str().expect("a target id").to_owned();
        let attached =
            page.call(None, "Target.attachToTarget", json!({ "targetId": target, "flatten": true })).expect("attached");
        page.session = attached["sessionId"].as_str().expect("a session id").to_owned();
        page.send("Runtime.enable", json!({}));
        page.send("Page.enable", json!({}));
        page.send(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": 1600, "height": 900, "deviceScaleFactor": 1, "mobile": false }),
        );
        page
    }

    /// A command to the browser (`session` None) or the page: its result, or the error
    /// Chromium answered.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.ws
            .send(tungstenite::Message::text(message.to_string()))
            .unwrap_or_else(|e| panic!("{method}: cannot send: {e}"));
        let deadline = Instant::now() + PATIENCE;
        loop {
            assert!(Instant::now() < deadline, "{method}: no answer from Chromium in {PATIENCE:?}");
            let text = match self.ws.read() {
                Ok(tungstenite::Message::Text(text)) => text,
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
                {
                    continue;
                }
                Err(e) => panic!("{method}: the DevTools connection failed: {e}\n{}", self.browser.stderr_tail()),
            };
            let Ok(answer) = serde_json::from_str::<Value>(text.as_str()) else { continue };
            if answer["id"] != id {
                continue; // an event, or another session's answer
            }
            if let Some(error) = answer.get("error") {
                return Err(format!("{method}: Chromium answered an error: {error}"));
            }
            return Ok(answer["result"].clone());
        }
    }

    /// A command to the page; its result.
    fn send(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.call(Some(&session), method, params).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Evaluates `js` in the page (a promise is awaited): its value, or what went wrong (it
    /// threw, or the page was between two documents).
    fn try_eval(&mut self, js: &str) -> Result<Value, String> {
        let session = self.session.clone();
        let params = json!({ "expression": js, "returnByValue": true, "awaitPromise": true });
        let answer = self.call(Some(&session), "Runtime.evaluate", params)?;
        match answer.get("exceptionDetails") {
            Some(exception) => Err(format!("the page threw evaluating `{js}`: {exception}")),
            None => Ok(answer["result"]["value"].clone()),
        }
    }

    /// Evaluates `js` in the page; its value.
    fn eval(&mut self, js: &str) -> Value {
        self.try_eval(js).unwrap_or_else(|e| panic!("{e}"))
    }

    fn navigate(&mut self, url: &str) {
        self.send("Page.navigate", json!({ "url": url }));
    }

    /// Polls `js` until it is truthy (its value), or fails saying `what` did not happen and
    /// what `explain` shows of the page then.
    fn wait_for(&mut self, what: &str, js: &str, explain: &str) -> Value {
        let deadline = Instant::now() + PATIENCE;
        let mut last_error = None;
        loop {
            // While the page loads, `js` may throw (no such element yet): that is "not yet".
            let value = match self.try_eval(js) {
                Ok(value) => value,
                Err(e) => {
                    last_error = Some(e);
                    Value::Null
                }
            };
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                let seen = self.try_eval(explain).unwrap_or_else(Value::String);
                let error = last_error.map_or_else(String::new, |e| format!(" (the last poll: {e})"));
                panic!("the page did not show {what} in {PATIENCE:?}; it shows {seen}{error}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Opens the page with `token` and waits for a frame of the live store drawn and the
    /// role the page found.
    fn load(&mut self, server: &Server, token: &str, role: &str) {
        self.navigate(&server.page_url(token));
        self.wait_for(
            &format!("a live frame for a {role}"),
            &format!(
                "!!(window.storetwin && storetwin.frames > 1 && storetwin.connection === 'live' && storetwin.role === '{role}')"
            ),
            EXPLAIN,
        );
    }

    fn text(&mut self, selector: &str) -> String {
        let js = format!("(document.querySelector({selector:?}) || {{}}).textContent || ''");
        self.eval(&js).as_str().unwrap_or_default().to_owned()
    }
}

/// What the page shows, when a wait fails.
const EXPLAIN: &str = "JSON.stringify({ status: document.querySelector('#status').textContent, \
    role: document.querySelector('#role').textContent, clock: document.querySelector('#kpi-clock').textContent, \
    auth: document.querySelector('#auth').hidden ? null : document.querySelector('#auth-message').textContent, \
    frames: window.storetwin && storetwin.frames, \
    results: [...document.querySelectorAll('.result, #forecast-status')].map(e => e.id + ': ' + e.textContent) })";

/// Seconds since midnight of an `HH:MM:SS` clock.
fn seconds(clock: &str) -> u32 {
    let parts: Vec<u32> = clock.split(':').filter_map(|p| p.parse().ok()).collect();
    assert_eq!(parts.len(), 3, "not a store clock: {clock:?}");
    parts[0] * 3600 + parts[1] * 60 + parts[2]
}

/// Picks `lane` in the lane select and clicks `button`.
fn click_lane_button(page: &mut Page, lane: &str, button: &str) {
    let js = format!(
        "(() => {{ const s = document.querySelector('#lane-select'); s.value = {lane:?}; \
         s.dispatchEvent(new Event('change')); document.querySelector({button:?}).click(); return s.value; }})()"
    );
    assert_eq!(page.eval(&js), json!(lane), "the lane select has no {lane}");
}

// ---- the tests -------------------------------------------------------------------------

#[test]
fn a_screenshot_shows_the_live_floor_and_the_page_the_live_clock() {
    let _one = one_at_a_time();
    let server = Server::start();

    // Chromium's own screenshot: the page loads, fetches the floor and the state (virtual
    // time waits for fetches), streams, and is captured when the budget is spent.
    let dir = TempDir::new("screenshot");
    let png = dir.0.join("page.png");
    let mut args = base_args(&dir.0.join("profile"));
    args.extend([
        "--virtual-time-budget=4000".to_owned(),
        format!("--screenshot={}", png.display()),
        server.page_url(VIEWER),
    ]);
    let mut run = Chromium::spawn(&args, dir);
    let code = run.wait(Duration::from_secs(120));
    assert!(code.is_some(), "chromium --screenshot did not finish in 120 s:\n{}", run.stderr_tail());
    let bytes = std::fs::read(&png)
        .unwrap_or_else(|e| panic!("no screenshot at {} ({e}); chromium said:\n{}", png.display(), run.stderr_tail()));
    if let Some(keep) = std::env::var_os("STORETWIN_KEEP_SCREENSHOT") {
        std::fs::write(&keep, &bytes).expect("keep the screenshot");
    }
    assert!(bytes.len() > 40_000, "the screenshot is {} bytes: a blank page?", bytes.len());
    let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
    let mut reader = decoder.read_info().expect("the screenshot is a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a buffer size")];
    let info = reader.next_frame(&mut pixels).expect("the screenshot decodes");
    assert_eq!((info.width, info.height), (1600, 900), "the screenshot's size");
    let channels = info.color_type.samples();
    assert!(channels >= 3, "a colour screenshot, not {:?}", info.color_type);
    let count = |rgb: [u8; 3]| pixels[..info.buffer_size()].chunks_exact(channels).filter(|p| p[..3] == rgb).count();
    // Open lanes are filled #1fa463, and the canvas draws lanes only from a frame (the
    // legend's swatch has about 140 such pixels); six lanes are open at opening.
    let open_lane = count([0x1f, 0xa4, 0x63]);
    assert!(open_lane > 1_000, "{open_lane} pixels of an open lane's green: the floor was not drawn from a live frame");
    // The floor's walls (#3a4966), drawn from `/v1/floor`.
    let wall = count([0x3a, 0x49, 0x66]);
    assert!(wall > 10_000, "{wall} pixels of wall: the floor plan was not drawn");

    // The same page over the DevTools Protocol: the store clock is after the opening and
    // not ahead of the server's, and the figures are the server's.
    let mut page = Page::open();
    page.load(&server, VIEWER, "viewer");
    let opening = seconds("08:00:00");
    let clock = page.wait_for(
        "a store clock after the opening",
        &format!(
            "(() => {{ const t = document.querySelector('#kpi-clock').textContent; \
             const m = /^(\\d\\d):(\\d\\d):(\\d\\d)$/.exec(t); \
             return m && (+m[1] * 3600 + +m[2] * 60 + +m[3]) > {opening} ? t : null; }})()"
        ),
        EXPLAIN,
    );
    let clock = clock.as_str().expect("a clock").to_owned();
    let (status, state) = server.get("/v1/state", VIEWER);
    assert_eq!(status, 200, "{state}");
    let now = state["clock"].as_str().expect("the server's clock");
    assert!(seconds(&clock) <= seconds(now), "the page's clock {clock} is ahead of the server's {now}");
    let footfall: u64 = page.text("#kpi-footfall").replace(',', "").parse().expect("a footfall on the page");
    let served: u64 = state["kpis"]["footfall"].as_u64().expect("the server's footfall");
    assert!(footfall <= served, "the page's footfall {footfall} is above the server's {served}");
    assert_eq!(page.text("#store-name"), "Riverside");
    assert_eq!(
        page.eval("document.querySelectorAll('#queues tbody tr').length"),
        json!(state["queues"].as_array().expect("queues").len())
    );
    assert_eq!(page.eval("document.querySelector('#status').dataset.state"), json!("live"));
}

#[test]
fn an_operator_opens_a_lane_takes_a_device_offline_and_pauses_from_the_page() {
    let _one = one_at_a_time();
    let server = Server::start();
    let mut page = Page::open();
    page.load(&server, OPERATOR, "operator");
    assert_eq!(page.eval("document.querySelector('#ops').classList.contains('readonly')"), json!(false));

    let closed = server.closed_lanes();
    let lane = closed.first().unwrap_or_else(|| panic!("no closed lane to open at {}", server.kpis()["clock"])).clone();
    click_lane_button(&mut page, &lane, "#open-lane");
    page.wait_for(
        "the server's answer to the click",
        "/accepted at \\d\\d:\\d\\d:\\d\\d/.test(document.querySelector('#lane-result').textContent)",
        EXPLAIN,
    );

    // The server: the lane is open, and the session log holds the intervention.
    let deadline = Instant::now() + PATIENCE;
    while server.lane(&lane)["open"] != true {
        assert!(Instant::now() < deadline, "{lane} is still closed: {}", server.lane(&lane));
        std::thread::sleep(Duration::from_millis(100));
    }
    let logged = server.logged_interventions();
    assert_eq!(
        logged,
        vec![json!({ "do": "set_lane_open", "lane": logged_lane_index(&server, &lane), "open": true })],
        "the session log's interventions"
    );

    // The page: the lane's option, its row in the queues table.
    page.wait_for(
        &format!("{lane} open"),
        &format!(
            "document.querySelector('#lane-select option[value=\"{lane}\"]').dataset.state === 'open' && \
             document.querySelector('#queues tr[data-queue=\"{lane}\"]').dataset.state === 'open'"
        ),
        EXPLAIN,
    );

    // A device taken offline: the server's device, the page's option.
    let device = "wifi-1";
    let js = format!(
        "(() => {{ const s = document.querySelector('#device-select'); s.value = {device:?}; \
         document.querySelector('#device-offline').click(); return s.value; }})()"
    );
    assert_eq!(page.eval(&js), json!(device), "the device select has no {device}");
    page.wait_for(
        &format!("{device} down"),
        &format!("document.querySelector('#device-select option[value=\"{device}\"]').dataset.state === 'down'"),
        EXPLAIN,
    );
    let devices = server.kpis()["devices"].clone();
    let up = devices.as_array().and_then(|d| d.iter().find(|d| d["name"] == device)).map(|d| d["up"].clone());
    assert_eq!(up, Some(json!(false)), "{device} on the server: {devices}");
    assert!(page.text("#device-result").contains(&format!("{device} offline")), "{}", page.text("#device-result"));

    // Pause and resume.
    page.eval("document.querySelector('#pause').click()");
    page.wait_for("the pause taken", "document.querySelector('#kpi-paused').textContent === 'paused' && document.querySelector('#pause').textContent === 'Resume'", EXPLAIN);
    assert_eq!(server.kpis()["status"]["paused"], json!(true), "the server is not paused");
    page.eval("document.querySelector('#pause').click()");
    page.wait_for(
        "the session running again",
        "document.querySelector('#kpi-paused').textContent === 'running'",
        EXPLAIN,
    );
    assert_eq!(server.kpis()["status"]["paused"], json!(false), "the server is still paused");
}

/// The lane's index in the scenario, as the session log names it.
fn logged_lane_index(server: &Server, lane: &str) -> usize {
    let (status, floor) = server.get("/v1/floor", VIEWER);
    assert_eq!(status, 200, "{floor}");
    floor["lanes"]
        .as_array()
        .and_then(|l| l.iter().position(|l| l["name"] == lane))
        .unwrap_or_else(|| panic!("no lane {lane}"))
}

#[test]
fn a_viewer_click_says_read_only_and_changes_nothing() {
    let _one = one_at_a_time();
    let server = Server::start();
    let mut page = Page::open();
    page.load(&server, VIEWER, "viewer");
    assert_eq!(page.eval("document.querySelector('#ops').classList.contains('readonly')"), json!(true));
    assert_eq!(page.text("#role"), "viewer · read only");

    let closed = server.closed_lanes();
    let lane = closed.first().unwrap_or_else(|| panic!("no closed lane at {}", server.kpis()["clock"])).clone();
    click_lane_button(&mut page, &lane, "#open-lane");
    page.wait_for(
        "the read-only answer to the lane click",
        "document.querySelector('#lane-result').textContent === 'viewer token: read only'",
        EXPLAIN,
    );
    page.eval("document.querySelector('#pause').click()");
    page.wait_for(
        "the read-only answer to the pause click",
        "document.querySelector('#control-result').textContent === 'viewer token: read only'",
        EXPLAIN,
    );

    // Nothing changed: no intervention logged, the lane closed, the session running, and the
    // page still shows the lane closed a few frames later.
    let frames = page.eval("storetwin.frames").as_u64().expect("a frame count");
    page.wait_for("more frames", &format!("storetwin.frames > {frames} + 5"), EXPLAIN);
    assert_eq!(server.logged_interventions(), Vec::<Value>::new(), "a viewer's click reached the session");
    assert_eq!(server.lane(&lane)["open"], json!(false), "{lane} opened");
    assert_eq!(server.kpis()["status"]["paused"], json!(false), "the session paused");
    assert_eq!(
        page.eval(&format!("document.querySelector('#lane-select option[value=\"{lane}\"]').dataset.state")),
        json!("closed")
    );
}

#[test]
fn a_wrong_token_asks_for_one_and_a_good_one_goes_live() {
    let _one = one_at_a_time();
    let server = Server::start();
    let mut page = Page::open();
    page.navigate(&server.page_url("not-a-token-of-this-server"));
    let message = page.wait_for(
        "the token dialog",
        "!document.querySelector('#auth').hidden && document.querySelector('#status').dataset.state === 'auth' && document.querySelector('#auth-message').textContent",
        EXPLAIN,
    );
    assert!(message.as_str().is_some_and(|m| m.contains("refused")), "the dialog says {message}");
    // The token never stays in the address bar.
    assert_eq!(page.eval("location.hash"), json!(""));
    page.eval(&format!(
        "document.querySelector('#token-input').value = {VIEWER:?}; document.querySelector('#token-save').click()"
    ));
    page.wait_for(
        "a live frame after the token was given",
        "storetwin.connection === 'live' && storetwin.frames > 1 && document.querySelector('#auth').hidden",
        EXPLAIN,
    );
    assert_eq!(page.eval("sessionStorage.getItem('storetwin.token')"), json!(VIEWER));
}

#[test]
fn a_what_if_answers_in_a_table_of_kpis() {
    let _one = one_at_a_time();
    let server = Server::start();
    let mut page = Page::open();
    page.load(&server, OPERATOR, "operator");
    let lane = server.closed_lanes().first().cloned().expect("a closed lane");
    page.eval(&format!(
        "document.querySelector('#whatif-lane-{lane}').click(); document.querySelector('#horizon').value = '10min'; \
         document.querySelector('#replications').value = '4'; document.querySelector('#run-forecast').click()"
    ));
    let rows = page.wait_for(
        "the what-if's table",
        "document.querySelector('#forecast-result').hidden ? 0 : document.querySelectorAll('#forecast-result tbody tr').length",
        EXPLAIN,
    );
    assert_eq!(rows, json!(8), "a row per KPI");
    let status = page.text("#forecast-status");
    assert!(
        status.contains("4 replications") && status.contains(&format!("open {lane}")),
        "the what-if's summary: {status}"
    );
    let verdicts = page.eval(
        "[...document.querySelectorAll('#forecast-result tbody tr')].map(r => [r.dataset.kpi, r.dataset.verdict])",
    );
    let verdicts = verdicts.as_array().expect("verdicts");
    assert_eq!(verdicts[0], json!(["mean_wait_s", verdicts[0][1]]));
    for v in verdicts {
        assert!(["better", "worse", "same"].contains(&v[1].as_str().unwrap_or_default()), "a verdict: {v}");
    }
    // A what-if changes nothing in the live session.
    assert_eq!(server.logged_interventions(), Vec::<Value>::new());
    assert_eq!(server.lane(&lane)["open"], json!(false));
}

/// A served chain's page: the store named in the page's URL is drawn and the header's
/// picker lists the chain's stores; an operator's click acts on that store, and the chain's
/// session log records it there.
#[test]
fn a_served_chain_page_draws_the_store_asked_for_and_acts_on_it() {
    let _one = one_at_a_time();
    let dir = TempDir::new("chain");
    let log = dir.0.join("chain.session");
    let mut tokens = Tokens::default();
    tokens.add(Role::Operator, OPERATOR).expect("a valid operator token");
    let chain = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/chain-3-stores.toml");
    let mut options = Options::new(chain, &log);
    options.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    options.speed = 60.0;
    options.tokens = tokens;
    let running = storetwin_server::start_chain(options).expect("the chain server starts");
    let addr = running.addr;
    let (_, stores) = http(addr, "GET", "/v1/stores", OPERATOR, None);
    let store = stores["stores"][2]["name"].as_str().expect("a third store").to_owned();

    let mut page = Page::open();
    page.navigate(&format!("http://{addr}/?store={store}#token={OPERATOR}"));
    page.wait_for(
        "a live frame of the store asked for",
        &format!(
            "!!(window.storetwin && storetwin.frames > 1 && storetwin.connection === 'live' && \
             storetwin.role === 'operator' && document.querySelector('#store-name').textContent === {store:?})"
        ),
        EXPLAIN,
    );
    page.wait_for("the store picker", "document.querySelectorAll('#store-pick option').length === 3", EXPLAIN);
    assert_eq!(page.eval("document.querySelector('#store-pick').value"), json!(store));

    let kpis = |addr: SocketAddr| http(addr, "GET", &format!("/v1/kpis?store={store}"), OPERATOR, None).1;
    let closed: Vec<String> = kpis(addr)["lanes"]
        .as_array()
        .expect("lanes")
        .iter()
        .filter(|l| l["open"] == false && l["down"] == false)
        .map(|l| l["name"].as_str().unwrap().to_owned())
        .collect();
    let lane = closed.first().expect("a closed lane to open").clone();
    click_lane_button(&mut page, &lane, "#open-lane");
    page.wait_for(
        "the server's answer to the click",
        "/accepted at \\d\\d:\\d\\d:\\d\\d/.test(document.querySelector('#lane-result').textContent)",
        EXPLAIN,
    );
    let deadline = Instant::now() + PATIENCE;
    loop {
        let record = std::fs::read_to_string(&log).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok());
        let logged = record.as_ref().and_then(|r| r["interventions"].as_array().cloned()).unwrap_or_default();
        if let Some(first) = logged.first() {
            assert_eq!(first["store"], 2, "recorded at the store the page shows: {first}");
            assert_eq!(first["do"], "set_lane_open");
            break;
        }
        assert!(Instant::now() < deadline, "the chain log has no intervention");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(page);
    running.stop().expect("stops");
}

#[test]
fn a_flash_sale_store_shows_its_counter_and_the_crowd_at_the_sale() {
    let _one = one_at_a_time();
    let dir = TempDir::new("flash");
    let mut tokens = Tokens::default();
    tokens.add(Role::Operator, OPERATOR).expect("a valid operator token");
    let chain = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/flash-3-stores-atomic.toml");
    let mut options = Options::new(chain, dir.0.join("flash.session"));
    options.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    options.speed = 1000.0;
    options.paused = true;
    // To 08:11:00, a minute into the surge.
    options.until = Some(storetwin_engine::SimTime::from_secs(660));
    options.tokens = tokens;
    let running = storetwin_server::start_chain(options).expect("the chain server starts");
    let addr = running.addr;

    let mut page = Page::open();
    page.navigate(&format!("http://{addr}/?store=old-town#token={OPERATOR}"));
    page.wait_for(
        "a live frame of old-town",
        "!!(window.storetwin && storetwin.frames > 0 && storetwin.connection === 'live' && \
         document.querySelector('#store-name').textContent === 'old-town')",
        EXPLAIN,
    );
    assert_eq!(page.eval("document.querySelector('#chain-card').hidden"), json!(false), "a chain's store has the card");
    let (status, _) = http(addr, "POST", "/v1/control", OPERATOR, Some(&json!({ "pause": false })));
    assert_eq!(status, 202);
    page.wait_for("the session's last frame", "!!(storetwin.frame && storetwin.frame.status.done)", EXPLAIN);

    // The card shows the last frame's figures.
    let flash = page.eval("storetwin.frame.chain.flash");
    assert_eq!(flash["name"], "coffee-drop", "{flash}");
    assert_eq!(page.text("#flash-title"), "Flash sale coffee-drop");
    let counts = |c: &Value| {
        let n = |k: &str| c[k].as_u64().unwrap_or_else(|| panic!("{k} in {c}"));
        format!("{} sold + {} reserved = {} of {}", n("sold"), n("reserved"), n("sold") + n("reserved"), n("quota"))
    };
    assert_eq!(page.text("#flash-store-bar b"), counts(&flash["store"]));
    assert_eq!(page.text("#flash-chain-bar b").replace(',', ""), counts(&flash["chain"]));
    let in_store = flash["desk"]["in_store"].as_u64().expect("a crowd count");
    assert!(in_store > 0, "a minute into the surge shoppers crowd the sale");
    assert!(page.text("#flash-crowd").starts_with(&format!("{in_store} in store")), "{}", page.text("#flash-crowd"));
    assert!(page.text("#flash-grabs").contains("chain"));
    let sold_width = page.eval("parseFloat(document.querySelector('#flash-store-bar i.sold').style.width)");
    assert!(sold_width.as_f64().is_some_and(|w| w > 0.0), "the bar shows what is sold: {sold_width}");

    // On the floor: the sale's zone tinted and its crowd's dots (#ff8c1a), counted on the canvas.
    let dots = page.eval(
        "(() => { const c = document.querySelector('#floor'); \
         const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; \
         for (let i = 0; i < d.length; i += 4) if (d[i] === 0xff && d[i + 1] === 0x8c && d[i + 2] === 0x1a) n++; \
         return n; })()",
    );
    assert!(dots.as_u64().is_some_and(|n| n > 20 * in_store.min(50)), "{dots} pixels of the sale's crowd");
    drop(page);
    running.stop().expect("stops");
}
