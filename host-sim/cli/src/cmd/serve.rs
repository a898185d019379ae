//! `kalsim serve`: a small static file server for the browser sandbox.
//!
//! Binds 127.0.0.1 only, answers GET and HEAD, one thread per connection, no keep-alive.
//! Paths are percent-decoded and resolved inside the root; any `..`, backslash, NUL or
//! absolute component is refused, and the resolved file must stay under the canonical root
//! (symlinks out of it are refused too).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use clap::Args;

use super::{CliError, CliResult, emit};

/// Options of `kalsim serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 = any free port, printed at start).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Directory to serve.
    #[arg(long, default_value = "wasm/www", value_name = "DIR")]
    pub dir: PathBuf,
}

/// MIME type by file extension.
pub fn mime_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "jsonl" => "application/jsonl",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        "ts" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The file a request path names under `root`, or `None` when it is outside the root or
/// malformed. `/` and directories map to their `index.html`.
pub fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let path = url_path.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode(path)?;
    if !decoded.starts_with('/') || decoded.contains(['\\', '\0']) {
        return None;
    }
    let mut rel = PathBuf::new();
    for comp in Path::new(decoded.trim_start_matches('/')).components() {
        match comp {
            Component::Normal(c) => rel.push(c),
            Component::CurDir => {}
            _ => return None,
        }
    }
    let root = root.canonicalize().ok()?;
    let mut full = root.join(rel);
    if full.is_dir() {
        full.push("index.html");
    }
    let full = full.canonicalize().ok()?;
    (full.starts_with(&root) && full.is_file()).then_some(full)
}

fn respond(stream: &mut TcpStream, status: &str, ctype: &str, body: &[u8], head_only: bool) {
    let header = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(header.as_bytes());
    if !head_only {
        let _ = stream.write_all(body);
    }
    let _ = stream.flush();
}

fn handle(mut stream: TcpStream, root: &Path) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(clone) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(clone);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Drain the headers (bounded) so the client sees a clean close.
    let mut line = String::new();
    for _ in 0..100 {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line.trim().is_empty() => break,
            Ok(_) => {}
        }
    }
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        respond(
            &mut stream,
            "400 Bad Request",
            "text/plain",
            b"bad request\n",
            false,
        );
        return;
    };
    let head_only = method == "HEAD";
    if method != "GET" && !head_only {
        respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"only GET and HEAD\n",
            false,
        );
        return;
    }
    match resolve(root, target).map(|p| (std::fs::read(&p), p)) {
        Some((Ok(body), path)) => {
            respond(&mut stream, "200 OK", mime_type(&path), &body, head_only)
        }
        _ => respond(
            &mut stream,
            "404 Not Found",
            "text/plain",
            b"not found\n",
            head_only,
        ),
    }
}

pub(super) fn serve_cmd(a: &ServeArgs) -> CliResult {
    if !a.dir.is_dir() {
        return Err(CliError::input(format!(
            "--dir {}: not a directory (build the sandbox first, or pass --dir)",
            a.dir.display()
        )));
    }
    let root = a
        .dir
        .canonicalize()
        .map_err(|e| CliError::input(format!("--dir {}: {e}", a.dir.display())))?;
    let listener = TcpListener::bind(("127.0.0.1", a.port))
        .map_err(|e| CliError::input(format!("--port {}: {e}", a.port)))?;
    let port = listener.local_addr().map(|s| s.port()).unwrap_or(a.port);
    emit(&format!(
        "serving {} on http://127.0.0.1:{port}/\n",
        root.display()
    ));
    for stream in listener.incoming() {
        match stream {
            Ok(s) => {
                let root = root.clone();
                std::thread::spawn(move || handle(s, &root));
            }
            Err(e) => eprintln!("warning: accept: {e}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types() {
        assert_eq!(mime_type(Path::new("a/b.wasm")), "application/wasm");
        assert!(mime_type(Path::new("x.js")).starts_with("text/javascript"));
        assert!(mime_type(Path::new("x.MJS")).starts_with("text/javascript"));
        assert!(mime_type(Path::new("index.html")).starts_with("text/html"));
    }

    #[test]
    fn no_traversal() {
        let root = std::env::temp_dir().join(format!("kalsim-serve-{}", std::process::id()));
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("index.html"), "hi").unwrap();
        std::fs::write(root.join("sub/a.js"), "x").unwrap();
        assert!(resolve(&root, "/").unwrap().ends_with("index.html"));
        assert!(resolve(&root, "/sub/a.js?v=1").is_some());
        assert!(resolve(&root, "/sub/%61.js").is_some());
        for bad in [
            "/../Cargo.toml",
            "/sub/../../x",
            "/%2e%2e/x",
            "/..%2fx",
            "/sub\\a.js",
            "//etc/passwd",
            "/missing",
            "relative",
            "/%zz",
        ] {
            assert!(resolve(&root, bad).is_none(), "{bad}");
        }
        let _ = std::fs::remove_dir_all(&root);
    }
}
