package node

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"syscall"

	cfg "github.com/cometbft/cometbft/config"
)

// PortInUseError says a port a node must listen on is taken.
type PortInUseError struct {
	Name string // "rpc" or "p2p"
	Addr string // host:port
	Port int
	Err  error // the failed listen
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("%s port %d is already in use (%v)", e.Name, e.Port, e.Err)
}

func (e *PortInUseError) Unwrap() error { return e.Err }

// CheckPortsFree reports a PortInUseError for the first of p's ports that
// something on this machine already listens on (on the default loopback host).
func CheckPortsFree(p Ports) error {
	return checkListenAddrsFree(listenAddrs(defaultListenHost, p))
}

// listenAddr is one address a node listens on, by name.
type listenAddr struct{ name, laddr string }

func listenAddrs(host string, p Ports) []listenAddr {
	return []listenAddr{
		{"rpc", "tcp://" + net.JoinHostPort(host, strconv.Itoa(p.RPC))},
		{"p2p", "tcp://" + net.JoinHostPort(host, strconv.Itoa(p.P2P))},
	}
}

// checkListenAddrsFree tries each address before CometBFT does: CometBFT's
// own failure ("bind: address already in use") comes half way through a
// start and does not say which of its listeners it was. Only "in use" is
// reported; any other listen error is left for CometBFT to report.
func checkListenAddrsFree(addrs []listenAddr) error {
	for _, a := range addrs {
		u, err := url.Parse(a.laddr)
		if err != nil || u.Scheme != "tcp" {
			continue // unix sockets and odd addresses: CometBFT reports them
		}
		l, err := net.Listen("tcp", u.Host)
		if err == nil {
			l.Close()
			continue
		}
		if errors.Is(err, syscall.EADDRINUSE) {
			port, _ := strconv.Atoi(u.Port())
			return &PortInUseError{Name: a.name, Addr: u.Host, Port: port, Err: err}
		}
	}
	return nil
}

// ListenPorts are the ports in home's config.toml.
func ListenPorts(home Home) (Ports, error) {
	c, err := loadConfig(home)
	if err != nil {
		return Ports{}, err
	}
	p, err := configPorts(c)
	if err != nil {
		return Ports{}, fmt.Errorf("%s: %w", home.ConfigFile(), err)
	}
	return p, nil
}

// SetListenPorts rewrites the listen ports in home's config.toml, keeping
// each address's host; a zero port keeps what the home has. It is how ports
// chosen on the command line reach a home made earlier: CometBFT only reads
// them from config.toml.
func SetListenPorts(home Home, p Ports) error {
	c, err := loadConfig(home)
	if err != nil {
		return err
	}
	if c.RPC.ListenAddress, err = withPort(c.RPC.ListenAddress, p.RPC); err != nil {
		return fmt.Errorf("rpc.laddr in %s: %w", home.ConfigFile(), err)
	}
	if c.P2P.ListenAddress, err = withPort(c.P2P.ListenAddress, p.P2P); err != nil {
		return fmt.Errorf("p2p.laddr in %s: %w", home.ConfigFile(), err)
	}
	merged, err := configPorts(c)
	if err != nil {
		return fmt.Errorf("%s: %w", home.ConfigFile(), err)
	}
	if err := checkPorts(merged); err != nil {
		return err
	}
	return writeConfig(home, c)
}

// configPorts parses the ports of c's RPC and P2P listen addresses.
func configPorts(c *cfg.Config) (Ports, error) {
	rpc, err := laddrPort(c.RPC.ListenAddress)
	if err != nil {
		return Ports{}, fmt.Errorf("rpc.laddr: %w", err)
	}
	p2p, err := laddrPort(c.P2P.ListenAddress)
	if err != nil {
		return Ports{}, fmt.Errorf("p2p.laddr: %w", err)
	}
	return Ports{P2P: p2p, RPC: rpc}, nil
}

// withPort replaces the port of a tcp:// listen address; port 0 keeps it.
func withPort(laddr string, port int) (string, error) {
	if port == 0 {
		return laddr, nil
	}
	u, err := url.Parse(laddr)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("cannot set a port on listen address %q", laddr)
	}
	u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
	return u.String(), nil
}

func laddrPort(laddr string) (int, error) {
	u, err := url.Parse(laddr)
	if err != nil {
		return 0, fmt.Errorf("listen address %q: %w", laddr, err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return 0, fmt.Errorf("listen address %q has no port", laddr)
	}
	return port, nil
}
