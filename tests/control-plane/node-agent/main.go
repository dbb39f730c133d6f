// Command porthole-node-agent is a stand-in for the kubelet in Porthole's
// test control plane. It is NOT a kubelet: it runs no containers and
// reports no node status. It serves only the kubelet API paths the
// apiserver calls for pods/portforward, pods/exec, pods/attach and pods/log,
// over TLS, with the kubelet's own streaming code (k8s.io/cri-streaming at
// the pinned Kubernetes version: the real SPDY and WebSocket protocols).
//
// It runs inside the harness's network namespace, where the backend
// processes stand in for containers:
//   - port-forward dials the Pod's IP and the requested port,
//   - exec runs the command in that namespace (no other isolation),
//   - attach streams the container's log (stdin is ignored),
//   - logs serve the container's log file, written in the CRI log format
//     ("<RFC3339Nano> <stream> <P|F> <text>" per line).
//
// Which Pods exist, their IPs and log files come from --pods (JSON written by
// the harness): {"pods":[{"namespace","name","ip","containers":{"c":"/log"}}]}.
// Pods that come and go while it runs (test workloads) live in --pods-dir,
// one file per Pod, <namespace>_<name>.json, holding one such entry: a Pod
// that is not in --pods is looked up there on every request, so a file
// written (atomically, by rename) makes the Pod known at once and removing
// it makes the agent answer 404 again.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// version is set by tests/control-plane/build.sh (-X main.version=...).
var version = "unknown"

const (
	idleTimeout           = 4 * time.Hour
	streamCreationTimeout = 30 * time.Second
)

// Pod is one fixture Pod the agent answers for.
type Pod struct {
	Namespace  string            `json:"namespace"`
	Name       string            `json:"name"`
	IP         string            `json:"ip"`
	Containers map[string]string `json:"containers"`
}

type podsFile struct {
	Pods []Pod `json:"pods"`
}

type agent struct {
	pods    map[string]Pod // "namespace/name", fixed at start (--pods)
	podsDir string         // per-Pod files read on every lookup (--pods-dir); "" = none
}

// dnsName is what a namespace or Pod name may look like (a DNS subdomain):
// no path separators, so it is safe in a file name.
var dnsName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

func (a *agent) pod(w http.ResponseWriter, r *http.Request) (Pod, bool) {
	ns, name := r.PathValue("ns"), r.PathValue("pod")
	key := ns + "/" + name
	if p, ok := a.pods[key]; ok {
		return p, true
	}
	p, ok, err := a.dynamicPod(ns, name)
	if err != nil {
		log.Printf("pod %s: %v", key, err)
		http.Error(w, fmt.Sprintf("pod %s: %v", key, err), http.StatusInternalServerError)
		return p, false
	}
	if !ok {
		http.Error(w, fmt.Sprintf("pod %s is not known to the porthole node agent", key), http.StatusNotFound)
	}
	return p, ok
}

// dynamicPod reads <podsDir>/<ns>_<name>.json. Not cached: the harness adds
// and removes these files while the agent runs, each by one rename, so a
// read sees a whole file or none.
func (a *agent) dynamicPod(ns, name string) (Pod, bool, error) {
	if a.podsDir == "" || !dnsName.MatchString(ns) || !dnsName.MatchString(name) {
		return Pod{}, false, nil
	}
	path := filepath.Join(a.podsDir, ns+"_"+name+".json")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Pod{}, false, nil
	}
	if err != nil {
		return Pod{}, false, err
	}
	var p Pod
	if err := json.Unmarshal(data, &p); err != nil {
		return Pod{}, false, fmt.Errorf("%s: %w", path, err)
	}
	if p.Namespace != ns || p.Name != name {
		return Pod{}, false, fmt.Errorf("%s describes pod %s/%s", path, p.Namespace, p.Name)
	}
	return p, true, nil
}

func (a *agent) container(w http.ResponseWriter, r *http.Request) (Pod, string, bool) {
	p, ok := a.pod(w, r)
	if !ok {
		return p, "", false
	}
	c := r.PathValue("container")
	if _, ok := p.Containers[c]; !ok {
		http.Error(w, fmt.Sprintf("container %q is not in pod %s/%s", c, p.Namespace, p.Name), http.StatusNotFound)
		return p, "", false
	}
	return p, c, true
}

func loadPods(path string) (map[string]Pod, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f podsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m := make(map[string]Pod, len(f.Pods))
	for _, p := range f.Pods {
		m[p.Namespace+"/"+p.Name] = p
	}
	return m, nil
}

func tlsConfig(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	caPEM, err := os.ReadFile(clientCAFile)
	if err != nil {
		return nil, fmt.Errorf("client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("client CA %s holds no certificate", clientCAFile)
	}
	// Like the kubelet with --client-ca-file: only the apiserver's client
	// certificate (signed by the cluster CA) gets in.
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

func main() {
	var (
		listen   = flag.String("listen", "", "comma-separated host:port addresses to serve on (the Nodes' addresses)")
		certFile = flag.String("tls-cert-file", "", "serving certificate (PEM)")
		keyFile  = flag.String("tls-private-key-file", "", "serving key (PEM)")
		clientCA = flag.String("client-ca-file", "", "CA that signs the apiserver's kubelet client certificate")
		podsPath = flag.String("pods", "", "JSON file listing the Pods (see the command's doc)")
		podsDir  = flag.String("pods-dir", "", "directory of per-Pod JSON files, <namespace>_<name>.json, read when a Pod is not in --pods")
		showVer  = flag.Bool("version", false, "print the version and exit")
	)
	flag.Parse()
	if *showVer {
		fmt.Printf("porthole-node-agent (a stand-in for the kubelet, not a kubelet) Kubernetes %s\n", version)
		return
	}
	if *listen == "" || *certFile == "" || *keyFile == "" || *clientCA == "" || *podsPath == "" {
		log.Fatal("--listen, --tls-cert-file, --tls-private-key-file, --client-ca-file and --pods are required")
	}
	pods, err := loadPods(*podsPath)
	if err != nil {
		log.Fatalf("reading the pods: %v", err)
	}
	cfg, err := tlsConfig(*certFile, *keyFile, *clientCA)
	if err != nil {
		log.Fatal(err)
	}
	a := &agent{pods: pods, podsDir: *podsDir}
	mux := http.NewServeMux()
	a.routes(mux)
	handler := logRequests(mux)

	addrs := strings.Split(*listen, ",")
	errs := make(chan error, len(addrs))
	for _, addr := range addrs {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			log.Fatalf("listening on %s: %v", addr, err)
		}
		srv := &http.Server{Handler: handler, TLSConfig: cfg, ReadHeaderTimeout: 30 * time.Second}
		go func() { errs <- srv.Serve(tls.NewListener(ln, cfg)) }()
		log.Printf("serving the kubelet streaming API on https://%s (%d pods, more in %q)", addr, len(pods), *podsDir)
	}
	log.Fatal(<-errs)
}

func logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.Printf("%s %s", r.Method, r.URL.RequestURI())
		h.ServeHTTP(w, r)
	})
}
