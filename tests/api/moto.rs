//! One moto server (<https://github.com/getmoto/moto>) per test process.
//!
//! [`endpoint`] installs moto into a virtualenv on first use, starts its
//! server (through `scripts/moto-server`, which adds the IAM calls moto lacks)
//! on a free loopback port and waits until it answers. Only std
//! is used: every `#[tokio::test]` has its own runtime, so nothing here may
//! depend on one.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// How long moto may take from spawn to answering `GET /moto-api/`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Base URL of this process's moto server, e.g. `http://127.0.0.1:41234`.
///
/// The first caller installs (if needed) and starts moto; concurrent callers
/// block until it is ready. Panics if moto cannot be installed or started.
pub fn endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(start)
}

/// The virtualenv's Python (with moto installed), for checks that want a standard Python library.
pub fn python() -> PathBuf {
    endpoint();
    venv_dir().join("bin/python")
}

fn venv_dir() -> PathBuf {
    match std::env::var_os("S3API_MOTO_VENV") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join(".moto-venv"),
    }
}

fn start() -> String {
    let venv = venv_dir();
    ensure_installed(&venv);

    let log_path = std::env::temp_dir().join(format!("moto-server-{}.log", std::process::id()));
    let log = File::create(&log_path)
        .unwrap_or_else(|e| panic!("cannot create moto log {}: {e}", log_path.display()));
    let deadline = Instant::now() + STARTUP_TIMEOUT;

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/moto-server");
    let port = spawn_server(&venv.join("bin/python"), &script, log, &log_path, deadline);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    while !moto_api_ok(addr) {
        if Instant::now() >= deadline {
            panic!(
                "moto on {addr} did not answer GET /moto-api/ within {STARTUP_TIMEOUT:?}; log: {}",
                log_path.display()
            );
        }
        thread::sleep(Duration::from_millis(50));
    }
    format!("http://{addr}")
}

/// Creates the virtualenv and installs the pinned moto unless it is there already, with the script the local
/// run uses too (`scripts/moto-venv`, which also keeps concurrent installs apart).
fn ensure_installed(venv: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/moto-venv");
    run_or_panic(
        Command::new("bash")
            .arg(script)
            .env("S3API_MOTO_VENV", venv),
        "scripts/moto-venv",
    );
}

fn run_or_panic(cmd: &mut Command, what: &str) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Spawns moto from a dedicated thread that never exits and returns the port
/// moto reports on stderr.
///
/// `PR_SET_PDEATHSIG` fires when the *thread* that forked the child exits, not
/// when the process does, so the spawning thread must outlive every test: it
/// drains moto's stderr into the log and then parks forever. Rust never runs
/// static destructors, so this signal is what kills moto when the test
/// process exits.
fn spawn_server(
    python: &Path,
    script: &Path,
    log: File,
    log_path: &Path,
    deadline: Instant,
) -> u16 {
    let (tx, rx) = mpsc::channel::<Result<u16, String>>();
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .args(["-H", "127.0.0.1", "-p", "0"])
        .env("MOTO_ACM_VALIDATION_WAIT", "0")
        .env_remove("MOTO_ACCOUNT_ID")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    match log.try_clone() {
        Ok(out) => cmd.stdout(out),
        Err(_) => cmd.stdout(Stdio::null()),
    };
    // SAFETY: prctl is async-signal-safe and touches no Rust state between
    // fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }

    thread::Builder::new()
        .name("moto-server".into())
        .spawn(move || supervise(cmd, log, tx))
        .expect("spawn moto-server thread");

    let wait = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(wait) {
        Ok(Ok(port)) => port,
        Ok(Err(e)) => panic!(
            "moto_server failed to start: {e}; log: {}",
            log_path.display()
        ),
        Err(_) => panic!(
            "moto_server printed no \"Running on\" line within {STARTUP_TIMEOUT:?}; log: {}",
            log_path.display()
        ),
    }
}

/// Body of the `moto-server` thread. Must never return (see [`spawn_server`]).
fn supervise(mut cmd: Command, mut log: File, tx: mpsc::Sender<Result<u16, String>>) {
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            let _ = tx.send(Err(format!("cannot spawn {cmd:?}: {e}")));
            park_forever();
        }
    };
    let mut tx = Some(tx);
    if let Some(stderr) = child.stderr.take() {
        let mut reader = BufReader::new(stderr);
        let mut line = Vec::new();
        // Lines may carry ANSI colour codes, so read bytes, not UTF-8 strings.
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            let _ = log.write_all(&line);
            if let Some(port) = parse_port(&String::from_utf8_lossy(&line)) {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(Ok(port));
                }
            }
            line.clear();
        }
    }
    // stderr closed: moto exited (or is about to). Reap it and report if we
    // never got a port; the test waiting on `rx` then panics with the log path.
    let status = child.wait();
    let _ = writeln!(log, "moto_server exited: {status:?}");
    if let Some(tx) = tx {
        let _ = tx.send(Err(format!("moto_server exited early: {status:?}")));
    }
    park_forever();
}

fn park_forever() -> ! {
    loop {
        thread::park();
    }
}

/// Werkzeug prints ` * Running on http://127.0.0.1:PORT` on stderr.
fn parse_port(line: &str) -> Option<u16> {
    let rest = &line[line.find("Running on http://")? + "Running on http://".len()..];
    let after_colon = &rest[rest.find(':')? + 1..];
    let digits: String = after_colon
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// True when `GET /moto-api/` on `addr` answers with status 200.
fn moto_api_ok(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    // The status line fits in the first read; HTTP/1.0 makes moto close afterwards.
    let mut buf = [0u8; 64];
    let mut len = 0;
    while len < 12 {
        match stream.read(&mut buf[len..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => len += n,
        }
    }
    let head = String::from_utf8_lossy(&buf[..len]);
    head.starts_with("HTTP/1.") && head.split_whitespace().nth(1) == Some("200")
}
