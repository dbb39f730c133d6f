//! `portholectl status` against the test cluster.

use std::process::Command;

use porthole_testkit::cluster;

#[test]
fn portholectl_status_lists_each_context_with_its_user_or_problem() {
    let out = Command::new(env!("CARGO_BIN_EXE_portholectl"))
        .arg("--kubeconfig")
        .arg(cluster().kubeconfig())
        .args(["status", "-o", "json"])
        .output()
        .expect("portholectl runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let statuses: serde_json::Value = serde_json::from_str(&stdout).expect("JSON statuses");
    let find = |name: &str| {
        statuses
            .as_array()
            .and_then(|a| a.iter().find(|s| s["context"] == name))
            .unwrap_or_else(|| panic!("{name} missing in {stdout}"))
            .clone()
    };
    assert_eq!(find("porthole-admin")["status"]["user"], "admin");
    assert_eq!(find("porthole-oidc")["status"]["state"], "reachable");
    assert_eq!(
        find("porthole-impersonate-denied")["status"]["problem"]["kind"],
        "forbidden"
    );
    // One context is refused on purpose, so the exit code says so.
    assert_eq!(out.status.code(), Some(1));

    let one = Command::new(env!("CARGO_BIN_EXE_portholectl"))
        .arg("--kubeconfig")
        .arg(cluster().kubeconfig())
        .args(["status", "porthole-viewer"])
        .output()
        .expect("portholectl runs");
    let table = String::from_utf8_lossy(&one.stdout);
    assert!(one.status.success(), "{table}");
    assert!(
        table.contains("porthole-viewer") && table.contains("user viewer"),
        "{table}"
    );
    assert!(!table.contains("porthole-admin"), "{table}");
}
