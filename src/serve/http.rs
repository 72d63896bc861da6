//! A minimal HTTP/1.1 endpoint for health, readiness and metrics (GET only, no body parsing).

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `route(path) -> (status, content-type, body)` until `stop` fires.
pub async fn serve<F>(
    addr: String,
    route: Arc<F>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()>
where
    F: ?Sized
        + Fn(&str) -> futures_lite::future::Boxed<(u16, &'static str, String)>
        + Send
        + Sync
        + 'static,
{
    let listener = match TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(addr = %addr, error = %e, "kan HTTP-poort niet openen");
            return Err(e);
        }
    };
    loop {
        tokio::select! {
            _ = stop.changed() => return Ok(()),
            acc = listener.accept() => {
                let Ok((mut sock, _)) = acc else { continue };
                let route = route.clone();
                tokio::spawn(async move {
                    // Read until the end of the request head (or 4 KB), however the client splits it.
                    let mut buf = Vec::with_capacity(1024);
                    let mut chunk = [0u8; 1024];
                    loop {
                        let n = match tokio::time::timeout(std::time::Duration::from_secs(5), sock.read(&mut chunk)).await {
                            Ok(Ok(n)) => n,
                            _ => return,
                        };
                        buf.extend_from_slice(&chunk[..n]);
                        if n == 0 || buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.len() > 4096 {
                            break;
                        }
                    }
                    let req = String::from_utf8_lossy(&buf);
                    let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let (status, ctype, body) = if req.starts_with("GET ") {
                        route(&path).await
                    } else {
                        (405, "text/plain", "method not allowed\n".to_string())
                    };
                    let reason = match status { 200 => "OK", 404 => "Not Found", 405 => "Method Not Allowed", _ => "Service Unavailable" };
                    let resp = format!(
                        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        }
    }
}
