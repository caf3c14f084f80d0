package api

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Harden applies l to srv, which serves on ln: its timeouts, and a handler
// that refuses a foreign Host (when ln is loopback), a body over its
// route's limit and a request over its route's slots before the handler
// sees them. Call it before srv.Serve(ln).
func (l Limits) Harden(srv *http.Server, ln net.Listener) {
	srv.ReadHeaderTimeout = l.Timeouts.ReadHeader
	srv.ReadTimeout = l.Timeouts.Read
	srv.WriteTimeout = l.Timeouts.Write
	srv.IdleTimeout = l.Timeouts.Idle
	srv.MaxHeaderBytes = l.MaxHeaderBytes
	var h http.Handler = newAdmission(l, srv.Handler)
	if hosts, ok := loopbackHosts(ln.Addr()); ok {
		h = checkHost(hosts, l.Errors, h)
	}
	srv.Handler = h
}

// loopbackHosts is the Host values a browser or client uses for a loopback
// listener; false when the listener is not on loopback (a metrics port
// bound to every interface is reached under names we cannot know).
func loopbackHosts(a net.Addr) (map[string]bool, bool) {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsLoopback() {
		return nil, false
	}
	port := strconv.Itoa(tcp.Port)
	return map[string]bool{
		"127.0.0.1:" + port: true,
		"localhost:" + port: true,
		"[::1]:" + port:     true,
		// The address it listens on, when that is another loopback one
		// (127.0.0.2): its clients dial and name exactly that.
		net.JoinHostPort(tcp.IP.String(), port): true,
	}, true
}

// checkHost refuses a request whose Host is not this server: a page a
// browser loaded from evil.example, whose name now resolves to 127.0.0.1,
// still sends Host: evil.example, so this stops DNS rebinding.
func checkHost(hosts map[string]bool, f ErrorFormat, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hosts[strings.ToLower(r.Host)] {
			refuse(w, f, http.StatusMisdirectedRequest, ErrHost.Wrapf("%q", r.Host))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// admission holds each route's slots; one per server, so servers do not
// take each other's.
type admission struct {
	limits Limits
	slots  map[string]chan struct{}
	other  chan struct{}
	next   http.Handler
}

func newAdmission(l Limits, next http.Handler) *admission {
	a := &admission{limits: l, slots: map[string]chan struct{}{}, other: make(chan struct{}, max(l.Default.Slots, 1)), next: next}
	for path, rt := range l.Routes {
		a.slots[path] = make(chan struct{}, max(rt.Slots, 1))
	}
	return a
}

func (a *admission) route(path string) (Route, chan struct{}) {
	if rt, ok := a.limits.Routes[path]; ok {
		return rt, a.slots[path]
	}
	return a.limits.Default, a.other
}

// ServeHTTP checks the body's declared size first (it costs nothing and
// reads nothing), then takes a slot without waiting, then caps what the
// handler can read of a body of unknown size.
func (a *admission) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, slot := a.route(r.URL.Path)
	if r.ContentLength > rt.MaxBody {
		// The body stays unread: closing the connection is cheaper than
		// draining what the client claims is too much.
		w.Header().Set("Connection", "close")
		refuse(w, a.limits.Errors, http.StatusRequestEntityTooLarge, ErrTooLarge.Wrapf("%s: %d bytes, limit %d", r.URL.Path, r.ContentLength, rt.MaxBody))
		return
	}
	select {
	case slot <- struct{}{}:
	default:
		w.Header().Set("Connection", "close")
		w.Header().Set("Retry-After", "1")
		refuse(w, a.limits.Errors, http.StatusServiceUnavailable, ErrBusy.Wrapf("%s: %d requests in progress", r.URL.Path, cap(slot)))
		return
	}
	defer func() { <-slot }()
	// A chunked body has no declared size: the reader stops at the limit,
	// and the handler's read fails with *http.MaxBytesError (413).
	r.Body = http.MaxBytesReader(w, r.Body, rt.MaxBody)
	a.next.ServeHTTP(w, r)
}

// refuse answers err with status in the server's error encoding.
func refuse(w http.ResponseWriter, f ErrorFormat, status int, err error) {
	e := wireError(err)
	switch f {
	case ErrorsJSON:
		writeJSON(w, status, map[string]any{"module": e.Module, "code": e.Code, "message": e.Message})
	case ErrorsText:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "%s/%d: %s\n", e.Module, e.Code, e.Message)
	default:
		writeCBOR(w, status, e)
	}
}
