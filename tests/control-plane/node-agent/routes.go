package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"time"

	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// routes registers the kubelet API paths the apiserver's pod subresources
// use (pkg/kubelet/server/server.go), with and without the Pod UID segment.
func (a *agent) routes(mux *http.ServeMux) {
	mux.HandleFunc("/portForward/{ns}/{pod}", a.portForward)
	mux.HandleFunc("/portForward/{ns}/{pod}/{uid}", a.portForward)
	mux.HandleFunc("/exec/{ns}/{pod}/{container}", a.exec)
	mux.HandleFunc("/exec/{ns}/{pod}/{uid}/{container}", a.exec)
	mux.HandleFunc("/attach/{ns}/{pod}/{container}", a.attach)
	mux.HandleFunc("/attach/{ns}/{pod}/{uid}/{container}", a.attach)
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", a.containerLogs)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
}

func (a *agent) portForward(w http.ResponseWriter, r *http.Request) {
	p, ok := a.pod(w, r)
	if !ok {
		return
	}
	opts, err := portforward.NewV4Options(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	portforward.ServePortForward(w, r, podDialer{p}, p.Name, r.PathValue("uid"), opts,
		idleTimeout, streamCreationTimeout, portforward.SupportedProtocols)
}

// podDialer forwards a stream to the Pod's IP and port (the agent runs in
// the namespace where the Pod's address lives).
type podDialer struct{ pod Pod }

func (d podDialer) PortForward(ctx context.Context, _ string, _ string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	addr := net.JoinHostPort(d.pod.IP, strconv.Itoa(int(port)))
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("pod %s/%s: dialing %s: %w", d.pod.Namespace, d.pod.Name, addr, err)
	}
	defer conn.Close()
	// Like containerd's port-forward: the client's end of input is passed
	// on as a half-close, but once the Pod's side is done the stream ends
	// (the deferred closes stop the other direction). Waiting for the
	// client as well would hang clients of protocols without half-close
	// (WebSocket port-forward) after the Pod hung up.
	go func() {
		_, _ = io.Copy(conn, stream)
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.CloseWrite()
		}
	}()
	_, err = io.Copy(stream, conn)
	return err
}

// remoteCommand resolves the container and the stream options of an exec
// or attach request, answering the request itself when either is wrong.
func (a *agent) remoteCommand(w http.ResponseWriter, r *http.Request) (Pod, string, *remotecommand.Options, bool) {
	p, c, ok := a.container(w, r)
	if !ok {
		return p, c, nil, false
	}
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return p, c, nil, false
	}
	return p, c, opts, true
}

func (a *agent) exec(w http.ResponseWriter, r *http.Request) {
	p, c, opts, ok := a.remoteCommand(w, r)
	if !ok {
		return
	}
	cmd := r.URL.Query()["command"]
	if len(cmd) == 0 {
		http.Error(w, "no command", http.StatusBadRequest)
		return
	}
	remotecommand.ServeExec(w, r, processRunner{}, p.Name, r.PathValue("uid"), c, cmd, opts,
		idleTimeout, streamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

// processRunner runs the command as a process in the agent's network
// namespace: "inside the pod" as far as the network goes. No TTY is
// allocated (a TTY request gets plain pipes).
type processRunner struct{}

func (processRunner) ExecInContainer(ctx context.Context, _ string, _ string, _ string, cmd []string, in io.Reader, out, errw io.WriteCloser, _ bool, _ <-chan remotecommand.TerminalSize, _ time.Duration) error {
	c := exec.CommandContext(ctx, cmd[0], cmd[1:]...)
	if in != nil {
		c.Stdin = in
	}
	if out != nil {
		c.Stdout = out
	}
	if errw != nil {
		c.Stderr = errw
	} else if out != nil {
		c.Stderr = out
	}
	err := c.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return utilexec.CodeExitError{Err: err, Code: exitErr.ExitCode()}
	}
	return err
}

func (a *agent) attach(w http.ResponseWriter, r *http.Request) {
	p, c, opts, ok := a.remoteCommand(w, r)
	if !ok {
		return
	}
	remotecommand.ServeAttach(w, r, logAttacher{path: p.Containers[c]}, p.Name, r.PathValue("uid"), c, opts,
		idleTimeout, streamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

// logAttacher stands in for a container's main process: attaching streams
// what it writes from now on (its log, followed); stdin is read and dropped.
type logAttacher struct{ path string }

func (l logAttacher) AttachContainer(ctx context.Context, _ string, _ string, _ string, in io.Reader, out, errw io.WriteCloser, _ bool, _ <-chan remotecommand.TerminalSize) error {
	if in != nil {
		go func() { _, _ = io.Copy(io.Discard, in) }()
	}
	if out == nil {
		<-ctx.Done()
		return nil
	}
	return followLog(ctx, l.path, logOptions{follow: true, tailLines: 0, hasTail: true}, out, nil)
}
