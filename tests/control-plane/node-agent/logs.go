package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

// logOptions are the containerLogs query parameters (v1.PodLogOptions).
type logOptions struct {
	follow     bool
	timestamps bool
	hasTail    bool
	tailLines  int
	since      time.Time
	limitBytes int64
}

func parseLogOptions(r *http.Request) (logOptions, error) {
	q := r.URL.Query()
	var o logOptions
	var err error
	boolean := func(name string) bool { v := q.Get(name); return v == "true" || v == "1" }
	o.follow = boolean("follow")
	o.timestamps = boolean("timestamps")
	if v := q.Get("tailLines"); v != "" {
		if o.tailLines, err = strconv.Atoi(v); err != nil || o.tailLines < 0 {
			return o, fmt.Errorf("tailLines %q is not a non-negative integer", v)
		}
		o.hasTail = true
	}
	if v := q.Get("sinceSeconds"); v != "" {
		s, err := strconv.ParseInt(v, 10, 64)
		if err != nil || s < 1 {
			return o, fmt.Errorf("sinceSeconds %q is not a positive integer", v)
		}
		o.since = time.Now().Add(-time.Duration(s) * time.Second)
	}
	if v := q.Get("sinceTime"); v != "" {
		if o.since, err = time.Parse(time.RFC3339, v); err != nil {
			return o, fmt.Errorf("sinceTime %q is not RFC 3339", v)
		}
	}
	if v := q.Get("limitBytes"); v != "" {
		if o.limitBytes, err = strconv.ParseInt(v, 10, 64); err != nil || o.limitBytes < 1 {
			return o, fmt.Errorf("limitBytes %q is not a positive integer", v)
		}
	}
	return o, nil
}

func (a *agent) containerLogs(w http.ResponseWriter, r *http.Request) {
	p, c, ok := a.container(w, r)
	if !ok {
		return
	}
	if v := r.URL.Query().Get("previous"); v == "true" || v == "1" {
		// These stand-in containers never restart.
		http.Error(w, fmt.Sprintf("previous terminated container %q in pod %q not found", c, p.Name), http.StatusBadRequest)
		return
	}
	opts, err := parseLogOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	var out io.Writer = w
	if opts.limitBytes > 0 {
		out = &limitWriter{w: w, left: opts.limitBytes}
	}
	flush := func() {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	if err := followLog(r.Context(), p.Containers[c], opts, out, flush); err != nil && !errors.Is(err, errLimit) {
		_, _ = fmt.Fprintf(w, "porthole-node-agent: %v\n", err)
	}
}

var errLimit = errors.New("limitBytes reached")

type limitWriter struct {
	w    io.Writer
	left int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errLimit
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.w.Write(p)
	l.left -= int64(n)
	if err == nil && l.left <= 0 {
		err = errLimit
	}
	return n, err
}

// criLine is one line of a CRI log file: "<RFC3339Nano> <stream> <tag> <text>".
type criLine struct {
	time time.Time
	text []byte // with its newline
}

func parseCRILine(line []byte) criLine {
	parts := bytes.SplitN(line, []byte(" "), 4)
	if len(parts) == 4 {
		if t, err := time.Parse(time.RFC3339Nano, string(parts[0])); err == nil {
			return criLine{time: t, text: parts[3]}
		}
	}
	return criLine{text: line} // not CRI format: pass through
}

func (o logOptions) write(out io.Writer, l criLine) error {
	if !o.since.IsZero() && !l.time.IsZero() && l.time.Before(o.since) {
		return nil
	}
	if o.timestamps && !l.time.IsZero() {
		if _, err := io.WriteString(out, l.time.UTC().Format(time.RFC3339Nano)+" "); err != nil {
			return err
		}
	}
	_, err := out.Write(l.text)
	return err
}

// followLog writes the log at path as the kubelet does: the last tailLines
// lines (all when unset), then, with follow, new lines until ctx ends.
func followLog(ctx context.Context, path string, o logOptions, out io.Writer, flush func()) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rd := bufio.NewReader(f)
	var lines []criLine
	var partial []byte
	readAvailable := func() error {
		for {
			chunk, err := rd.ReadBytes('\n')
			partial = append(partial, chunk...)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			lines = append(lines, parseCRILine(partial))
			partial = nil
		}
	}
	if err := readAvailable(); err != nil {
		return err
	}
	if o.hasTail && len(lines) > o.tailLines {
		lines = lines[len(lines)-o.tailLines:]
	}
	for {
		for _, l := range lines {
			if err := o.write(out, l); err != nil {
				return err
			}
		}
		lines = lines[:0]
		if flush != nil {
			flush()
		}
		if !o.follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
		if err := readAvailable(); err != nil {
			return err
		}
	}
}
