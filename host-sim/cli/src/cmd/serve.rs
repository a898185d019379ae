//! `kalsim serve`: a small static file server for the browser sandbox (tiny_http).
//!
//! Binds 127.0.0.1 only, answers GET and HEAD. Paths are percent-decoded and resolved inside
//! the root; any `..`, backslash, NUL or absolute component is refused, and the resolved file
//! must stay under the canonical root (symlinks out of it are refused too).

use std::path::{Component, Path, PathBuf};

use clap::Args;
use tiny_http::{Header, Method, Response, Server};

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

/// MIME type by file extension (mime_guess; text types in UTF-8, WebAssembly and JSON Lines
/// named explicitly).
pub fn mime_type(path: &Path) -> String {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "wasm" => return "application/wasm".into(),
        "jsonl" => return "application/jsonl".into(),
        "mjs" | "js" => return "text/javascript; charset=utf-8".into(),
        "ts" | "md" => return "text/plain; charset=utf-8".into(),
        _ => {}
    }
    let m = mime_guess::from_ext(&ext).first_or_octet_stream();
    if m.type_() == mime_guess::mime::TEXT {
        format!("{}; charset=utf-8", m.essence_str())
    } else {
        m.essence_str().to_owned()
    }
}

/// The file a request path names under `root`, or `None` when it is outside the root or
/// malformed. `/` and directories map to their `index.html`.
pub fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let path = url_path.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?
        .into_owned();
    // A malformed escape (`%zz`) is refused rather than passed through.
    if path.match_indices('%').any(|(i, _)| {
        path.get(i + 1..i + 3)
            .is_none_or(|h| u8::from_str_radix(h, 16).is_err())
    }) {
        return None;
    }
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

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes())
        .expect("static header names and values are valid")
}

/// Answer one request (tiny_http leaves the body out for HEAD).
fn handle(request: tiny_http::Request, root: &Path) {
    let plain = |status: u16, text: &str| {
        Response::from_string(text)
            .with_status_code(status)
            .with_header(header("Content-Type", "text/plain; charset=utf-8"))
    };
    let response = match request.method() {
        Method::Get | Method::Head => {
            match resolve(root, request.url()).map(|p| (std::fs::read(&p), p)) {
                Some((Ok(body), path)) => {
                    Response::from_data(body).with_header(header("Content-Type", &mime_type(&path)))
                }
                _ => plain(404, "not found\n"),
            }
        }
        _ => plain(405, "only GET and HEAD\n"),
    }
    .with_header(header("Cache-Control", "no-store"))
    .with_header(header("X-Content-Type-Options", "nosniff"));
    let _ = request.respond(response);
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
    let server = Server::http(("127.0.0.1", a.port))
        .map_err(|e| CliError::input(format!("--port {}: {e}", a.port)))?;
    let port = server.server_addr().to_ip().map_or(a.port, |s| s.port());
    emit(&format!(
        "serving {} on http://127.0.0.1:{port}/\n",
        root.display()
    ));
    std::thread::scope(|scope| {
        for request in server.incoming_requests() {
            let root = &root;
            scope.spawn(move || handle(request, root));
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types() {
        assert_eq!(mime_type(Path::new("a/b.wasm")), "application/wasm");
        assert_eq!(mime_type(Path::new("style.css")), "text/css; charset=utf-8");
        assert_eq!(mime_type(Path::new("p.svg")), "image/svg+xml");
        assert_eq!(mime_type(Path::new("x.bin")), "application/octet-stream");
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
