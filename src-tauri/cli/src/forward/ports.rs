//! `[LOCAL_PORT:]REMOTE_PORT` as `kubectl port-forward` reads it, with its
//! error wording: `8080:80`, `80` (the same port locally), `:80` or `0:80`
//! (a random local port), and a port name for the remote (a service's port
//! name, a container port's name).

use porthole_core::forward::RemotePort;

/// Which local port a forward listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalPort {
    /// `8080:80`, or `80` alone.
    Fixed(u16),
    /// `:80` or `0:80`: a free port, the same on every address.
    Random,
    /// `http` alone: the number the name stands for (the service port for
    /// a service, the container port for a Pod), known once resolved.
    NumberOfName,
}

/// One port argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortArg {
    /// As typed, for messages.
    pub text: String,
    pub local: LocalPort,
    pub remote: RemotePort,
}

/// Parses one `[LOCAL_PORT:]REMOTE_PORT`.
pub fn parse(text: &str) -> Result<PortArg, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let (local, remote) = match parts.as_slice() {
        [one] => (None, *one),
        [local, remote] => (Some(*local), *remote),
        // kubectl's own parsing quietly forwards the first number both ways
        // here; its port-forward library means this error.
        _ => return Err(format!("invalid port format '{text}'")),
    };
    if remote.is_empty() {
        return Err("remote port cannot be empty".into());
    }
    let local = match local {
        None if !is_go_integer(remote) => LocalPort::NumberOfName,
        None => LocalPort::Fixed(parse_port("local", remote)?),
        Some("") => LocalPort::Random,
        Some(text) => match parse_port("local", text)? {
            0 => LocalPort::Random,
            n => LocalPort::Fixed(n),
        },
    };
    let remote = if is_go_integer(remote) {
        match parse_port("remote", remote)? {
            0 => return Err("remote port must be > 0".into()),
            n => RemotePort::Number(n),
        }
    } else {
        RemotePort::Name(remote.to_owned())
    };
    Ok(PortArg {
        text: text.to_owned(),
        local,
        remote,
    })
}

/// What Go's `strconv.Atoi` takes: kubectl treats those as port numbers
/// (and then refuses signs and overflow), everything else as a port name.
fn is_go_integer(text: &str) -> bool {
    let digits = text
        .strip_prefix('+')
        .or_else(|| text.strip_prefix('-'))
        .unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A port number as Go's `strconv.ParseUint(text, 10, 16)` reads it, with
/// kubectl's message.
fn parse_port(which: &str, text: &str) -> Result<u16, String> {
    let why = if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        "invalid syntax"
    } else {
        match text.parse::<u16>() {
            Ok(n) => return Ok(n),
            Err(_) => "value out of range",
        }
    };
    Err(format!(
        "error parsing {which} port '{text}': strconv.ParseUint: parsing {text:?}: {why}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> (LocalPort, RemotePort) {
        let arg = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        (arg.local, arg.remote)
    }

    fn err(text: &str) -> String {
        parse(text).expect_err(text)
    }

    #[test]
    fn the_forms_kubectl_documents_are_read() {
        assert_eq!(
            ok("8080:80"),
            (LocalPort::Fixed(8080), RemotePort::Number(80))
        );
        assert_eq!(
            ok("5000"),
            (LocalPort::Fixed(5000), RemotePort::Number(5000))
        );
        assert_eq!(ok(":5000"), (LocalPort::Random, RemotePort::Number(5000)));
        assert_eq!(ok("0:5000"), (LocalPort::Random, RemotePort::Number(5000)));
        assert_eq!(
            ok("8443:https"),
            (LocalPort::Fixed(8443), RemotePort::Name("https".into()))
        );
        assert_eq!(
            ok("http"),
            (LocalPort::NumberOfName, RemotePort::Name("http".into()))
        );
        assert_eq!(
            ok(":http"),
            (LocalPort::Random, RemotePort::Name("http".into()))
        );
    }

    #[test]
    fn bad_ports_get_kubectls_messages() {
        assert_eq!(
            err("abc:80"),
            "error parsing local port 'abc': strconv.ParseUint: parsing \"abc\": invalid syntax"
        );
        // The one-part form is read as the local port first, as kubectl does.
        assert_eq!(
            err("70000"),
            "error parsing local port '70000': strconv.ParseUint: parsing \"70000\": value out of range"
        );
        assert_eq!(
            err("8080:70000"),
            "error parsing remote port '70000': strconv.ParseUint: parsing \"70000\": value out of range"
        );
        assert_eq!(
            err("8080:-1"),
            "error parsing remote port '-1': strconv.ParseUint: parsing \"-1\": invalid syntax"
        );
        assert_eq!(err("0"), "remote port must be > 0");
        assert_eq!(err("8080:0"), "remote port must be > 0");
        assert_eq!(err("8080:"), "remote port cannot be empty");
        assert_eq!(err("1:2:3"), "invalid port format '1:2:3'");
    }
}
