//! `tcp-echo`: raw TCP, not HTTP. Every byte a client sends comes back in
//! order; when the client half-closes (EOF), what is left is written and
//! then the connection closes. Stands in for the databases and gRPC servers
//! people port-forward to, where only the bytes matter.

use std::net::SocketAddr;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// Large reads keep throughput measurements about the path, not the echo.
const BUFFER: usize = 64 * 1024;

/// Echoes until the client's EOF (then closes after the last byte) or until
/// `stop` (the server is shutting down: the connection is dropped).
pub async fn serve(mut tcp: TcpStream, peer: SocketAddr, mut stop: watch::Receiver<bool>) {
    let _ = tcp.set_nodelay(true);
    let (read, mut write) = tcp.split();
    let mut read = BufReader::with_capacity(BUFFER, read);
    let echo = async {
        let copied = tokio::io::copy_buf(&mut read, &mut write).await?;
        // EOF from the client: everything read was written; now ours.
        write.shutdown().await?;
        Ok::<u64, std::io::Error>(copied)
    };
    tokio::select! {
        result = echo => match result {
            Ok(bytes) => eprintln!("porthole-backends[tcp-echo] {peer}: {bytes} bytes echoed, closed"),
            Err(err) => eprintln!("porthole-backends[tcp-echo] {peer}: {err}"),
        },
        _ = stop.wait_for(|stopping| *stopping) => {
            eprintln!("porthole-backends[tcp-echo] {peer}: closed by shutdown");
        }
    }
}
