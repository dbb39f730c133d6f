//! Turning what went wrong into a [`ClusterProblem`] the user can act on.

use rustls::CertificateError;

use super::client::ClientError;
use super::connect::ConnectError;
use super::status::{ClusterProblem, TlsProblem};
use crate::auth::{AuthError, ExecError};

pub fn problem(error: &ClientError) -> ClusterProblem {
    match error {
        ClientError::Auth(auth) => auth_problem(auth),
        ClientError::Connect(connect) => connect_problem(connect),
        ClientError::ResponseTimeout { seconds } => ClusterProblem::Timeout {
            phase: "waiting for the response".into(),
            seconds: *seconds,
        },
        ClientError::BadRequest(_) | ClientError::Http(_) => ClusterProblem::Other {
            detail: error.to_string(),
        },
    }
}

pub fn auth_problem(error: &AuthError) -> ClusterProblem {
    match error {
        AuthError::Exec(exec) => exec_problem(exec),
        AuthError::Oidc(oidc) => ClusterProblem::OidcRefreshFailed {
            issuer: oidc.issuer.clone(),
            reason: oidc.reason.clone(),
        },
        AuthError::TokenFile(reason) => ClusterProblem::Kubeconfig {
            file: None,
            line: None,
            field: "tokenFile".into(),
            reason: reason.clone(),
        },
        AuthError::PluginCertificate(reason) => ClusterProblem::PluginFailed {
            command: String::new(),
            exit_code: Some(0),
            stderr: Vec::new(),
            reason: Some(reason.clone()),
        },
    }
}

pub fn exec_problem(error: &ExecError) -> ClusterProblem {
    match error {
        ExecError::NotFound {
            command,
            searched,
            install_hint,
        } => ClusterProblem::PluginNotFound {
            command: command.clone(),
            searched: searched.clone(),
            install_hint: install_hint.clone(),
        },
        ExecError::Spawn { command, reason } => ClusterProblem::PluginFailed {
            command: command.clone(),
            exit_code: None,
            stderr: Vec::new(),
            reason: Some(format!("could not be started: {reason}")),
        },
        ExecError::Failed {
            command,
            exit_code,
            stderr,
            reason,
        } => ClusterProblem::PluginFailed {
            command: command.clone(),
            exit_code: *exit_code,
            stderr: stderr.clone(),
            reason: reason.clone(),
        },
        ExecError::TimedOut { command, seconds } => ClusterProblem::PluginTimedOut {
            command: command.clone(),
            seconds: *seconds,
        },
        ExecError::NeedsTerminal { command } => ClusterProblem::PluginFailed {
            command: command.clone(),
            exit_code: None,
            stderr: Vec::new(),
            reason: Some(
                "it needs an interactive terminal (interactiveMode: Always); run it once from a terminal, e.g. with kubectl".into(),
            ),
        },
    }
}

pub fn connect_problem(error: &ConnectError) -> ClusterProblem {
    match error {
        ConnectError::NoHost(_) => ClusterProblem::Other {
            detail: error.to_string(),
        },
        ConnectError::Dns { host, reason } => ClusterProblem::Dns {
            host: host.clone(),
            reason: reason.clone(),
        },
        ConnectError::Refused { address } => ClusterProblem::ConnectionRefused {
            address: address.clone(),
        },
        ConnectError::Unreachable { .. } => ClusterProblem::Other {
            detail: error.to_string(),
        },
        ConnectError::ConnectTimeout { seconds, .. } => ClusterProblem::Timeout {
            phase: "connecting".into(),
            seconds: *seconds,
        },
        ConnectError::Proxy { proxy, reason } => ClusterProblem::Proxy {
            proxy: proxy.clone(),
            reason: reason.clone(),
        },
        ConnectError::Tls {
            checked_name,
            error,
            ..
        } => ClusterProblem::Tls {
            problem: tls_problem(error, checked_name),
        },
        ConnectError::TlsIo { reason, .. } => ClusterProblem::Tls {
            problem: TlsProblem::Other {
                detail: reason.clone(),
            },
        },
        ConnectError::TlsTimeout { .. } => ClusterProblem::Tls {
            problem: TlsProblem::HandshakeStalled,
        },
    }
}

fn tls_problem(error: &rustls::Error, checked_name: &str) -> TlsProblem {
    let rustls::Error::InvalidCertificate(cert) = error else {
        return TlsProblem::Other {
            detail: error.to_string(),
        };
    };
    match cert {
        CertificateError::UnknownIssuer | CertificateError::BadSignature => {
            TlsProblem::UnknownAuthority
        }
        CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. } => TlsProblem::Expired,
        CertificateError::NotValidForName => TlsProblem::NameMismatch {
            expected: checked_name.to_owned(),
            presented: Vec::new(),
        },
        CertificateError::NotValidForNameContext { presented, .. } => TlsProblem::NameMismatch {
            expected: checked_name.to_owned(),
            presented: presented.clone(),
        },
        other => TlsProblem::Other {
            detail: format!("the server's certificate is invalid: {other:?}"),
        },
    }
}
