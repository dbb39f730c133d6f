//! Graceful stop and restart of an in-process `ProxyServer` (#5 item 2):
//! a request in flight finishes, an endless stream is closed at the end of
//! the grace period, new connections are refused as soon as the stop
//! begins, and the same port can be taken again at once.

use std::time::{Duration, Instant};

use http_body_util::BodyExt as _;
use tokio::net::TcpStream;

use crate::fake::{FakeUpstream, in_process_proxy};
use crate::support::{Req, open, send};

const GRACE: Duration = Duration::from_secs(6);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_lets_requests_in_flight_finish_refuses_new_ones_and_the_port_is_free_at_once() {
    let fake = FakeUpstream::start().await;
    let (server, addr) = in_process_proxy(&fake, None).await;
    let target = addr.to_string();

    // An endless stream (like a watch) and a slow request (3 s upstream).
    let endless = open(&target, &Req::get("/api/endless")).await;
    assert_eq!(endless.status(), 200);
    let endless = tokio::spawn(async move { endless.into_body().collect().await.is_ok() });
    let started = fake.slow_started.notified();
    let slow_target = target.clone();
    let slow = tokio::spawn(async move { send(&slow_target, &Req::get("/api/slow")).await });
    tokio::time::timeout(Duration::from_secs(10), started)
        .await
        .expect("the slow request reached the fake apiserver");

    let stop_began = Instant::now();
    let stopping = tokio::spawn(server.stop(GRACE));

    // New connections are refused while the slow request is still running.
    let refused = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if TcpStream::connect(&target).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        refused.is_ok(),
        "connections were still accepted 5 s after stop began"
    );
    assert!(
        !slow.is_finished(),
        "the listener closed while the request in flight was still running"
    );

    let slow = slow.await.expect("the slow request");
    assert_eq!(
        slow.status,
        200,
        "the request in flight finished: {}",
        slow.text()
    );
    assert_eq!(slow.text(), "slow-done");

    tokio::time::timeout(GRACE + Duration::from_secs(10), stopping)
        .await
        .expect("stop returns once the grace period is over")
        .expect("stop");
    let took = stop_began.elapsed();
    // The endless stream ended when the grace period ran out.
    let _ = tokio::time::timeout(Duration::from_secs(10), endless)
        .await
        .expect("the endless stream was closed by the stop");
    assert!(
        TcpStream::connect(&target).await.is_err(),
        "nothing listens after stop"
    );

    // Restart on the same port, at once.
    let (again, again_addr) = in_process_proxy(&fake, Some(addr.port())).await;
    assert_eq!(again_addr, addr, "the same port");
    let resp = send(&target, &Req::get("/api/again")).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(fake.last_path().as_deref(), Some("/api/again"));
    println!(
        "stop with a {GRACE:?} grace: returned after {:.1} s (slow request finished, endless stream cut); restart on port {} worked",
        took.as_secs_f64(),
        addr.port()
    );
    again.stop(Duration::from_secs(1)).await;
}
