package api

import (
	"context"
	"errors"
	"net"
	"net/http"
)

// Server is one HTTP server on a listener it owns; Close stops it and
// waits for its serving goroutine.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// Listen serves h on addr (host:port; port 0 picks one). Only loopback
// addresses are accepted: the runtime is reached through its relay on the
// same machine. h is served with the limits WithLimits gave it, else
// RelayLimits (see Limits.Harden).
func Listen(addr string, h http.Handler) (*Server, error) {
	return listen(addr, h, limitsOf(h))
}

// ListenExposed is Listen without the loopback rule: addr may be any
// address. Only the public API is ever served so, and only when its
// operator says so (phala worker --expose), since anyone who reaches the
// address can then use it.
func ListenExposed(addr string, h http.Handler) (*Server, error) {
	return listenAny(addr, h, limitsOf(h))
}

func listen(addr string, h http.Handler, l Limits) (*Server, error) {
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	return listenAny(addr, h, l)
}

func listenAny(addr string, h http.Handler, l Limits) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, ErrListenFailed.Wrapf("%s: %v", addr, err)
	}
	s := &Server{srv: &http.Server{Handler: h}, ln: ln, done: make(chan error, 1)}
	l.Harden(s.srv, ln)
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ErrNotLoopback.Wrapf("%q: %v", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return ErrNotLoopback.Wrapf("%q", addr)
	}
	return nil
}

// URL is the server's base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Close shuts the server down gracefully within ctx, then forcibly.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
