//! The SPA's first load as a browser sees it: `index.html`, then every asset it names, asked
//! for with `Accept-Encoding: br, gzip` as browsers do. Reports the bytes on the wire (what the
//! server sent, compressed), the bytes uncompressed, and how the assets may be cached.
//!
//! The benchmark server serves the built SPA from `--static-dir` (default `dist/`); without a
//! build the row says so instead of a number.

use std::path::Path;

use anyhow::{Context, bail};

use crate::scenarios::Row;

/// Measures one cold first load against `base` (`http://127.0.0.1:port`).
pub async fn first_load(http: &reqwest::Client, base: &str, static_dir: &Path) -> Row {
    let mut row = Row {
        scenario: "SPA first load (`/` and the assets it names)".to_owned(),
        load: "1 client, cold cache".to_owned(),
        requests: "—".to_owned(),
        rate: "—".to_owned(),
        per_second: None,
        p50: "—".to_owned(),
        p99: "—".to_owned(),
        max: "—".to_owned(),
        notes: String::new(),
    };
    if !static_dir.join("index.html").is_file() {
        row.notes = format!(
            "not measured: no built SPA in {} (run `make frontend`)",
            static_dir.display()
        );
        return row;
    }
    match measure(http, base).await {
        Ok(m) => {
            row.requests = format!("{} / 0", m.files);
            row.notes = format!(
                "**{:.0} KB on the wire** (compressed as sent), {:.0} KB uncompressed; \
                 wasm sent as `{}`; assets `Cache-Control: {}`",
                m.wire as f64 / 1024.0,
                m.plain as f64 / 1024.0,
                m.wasm_encoding,
                m.asset_cache
            );
        }
        Err(e) => row.notes = format!("failed: {e:#}"),
    }
    row
}

struct Measured {
    files: usize,
    wire: usize,
    plain: usize,
    wasm_encoding: String,
    asset_cache: String,
}

async fn measure(http: &reqwest::Client, base: &str) -> anyhow::Result<Measured> {
    let index = fetch(http, &format!("{base}/"), true).await?;
    let html = String::from_utf8_lossy(&index.body).into_owned();
    let assets = referenced_assets(&html);
    if assets.is_empty() {
        bail!("index.html names no assets");
    }
    let mut m = Measured {
        files: 1 + assets.len(),
        wire: index.body.len(),
        plain: index.body.len(),
        wasm_encoding: "identity".to_owned(),
        asset_cache: String::new(),
    };
    for asset in &assets {
        let url = format!("{base}{asset}");
        let sent = fetch(http, &url, true).await?;
        let plain = fetch(http, &url, false).await?;
        m.wire += sent.body.len();
        m.plain += plain.body.len();
        if asset.ends_with(".wasm") {
            m.wasm_encoding = sent.encoding.unwrap_or_else(|| "identity".to_owned());
            m.asset_cache = sent.cache_control;
        }
    }
    Ok(m)
}

struct Fetched {
    body: Vec<u8>,
    encoding: Option<String>,
    cache_control: String,
}

/// One GET; the client decompresses nothing, so `body` is what crossed the wire.
async fn fetch(http: &reqwest::Client, url: &str, compressed: bool) -> anyhow::Result<Fetched> {
    let mut req = http.get(url);
    if compressed {
        req = req.header("accept-encoding", "br, gzip");
    }
    let resp = req.send().await.with_context(|| format!("GET {url}"))?;
    if !resp.status().is_success() {
        bail!("GET {url}: {}", resp.status());
    }
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let encoding = header("content-encoding");
    let cache_control = header("cache-control").unwrap_or_default();
    Ok(Fetched {
        body: resp.bytes().await?.to_vec(),
        encoding,
        cache_control,
    })
}

/// Same-origin paths that `index.html` loads: `href="/…"`, `src="/…"` and the wasm module
/// named to the loader (`module_or_path: '/…'`), each once.
fn referenced_assets(html: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for opener in ["href=\"/", "src=\"/", "module_or_path: '/", "from '/"] {
        let close = if opener.ends_with("\"/") { '"' } else { '\'' };
        let mut rest = html;
        while let Some(at) = rest.find(opener) {
            let start = at + opener.len() - 1;
            let tail = &rest[start..];
            let Some(end) = tail.find(close) else { break };
            let path = tail[..end].to_owned();
            if !path.starts_with("//") && !out.contains(&path) {
                out.push(path);
            }
            rest = &tail[end..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_asset_once() {
        let html = r#"<link rel="icon" href="/favicon-1.svg"/><link rel="stylesheet" href="/style-2.css"/>
<script type="module">import init, * as bindings from '/app-3.js';
const wasm = await init({ module_or_path: '/app-3_bg.wasm' });</script>
<link rel="modulepreload" href="/app-3.js"><a href="//elsewhere.example/x">"#;
        assert_eq!(
            referenced_assets(html),
            [
                "/favicon-1.svg",
                "/style-2.css",
                "/app-3.js",
                "/app-3_bg.wasm"
            ]
        );
    }
}
