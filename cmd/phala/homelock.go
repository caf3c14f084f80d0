package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/node"
)

// lockHome takes home's lock for the whole run, so a second process on the
// same home stops before it opens a store. what names the running thing in
// the refusal ("devnet", "node").
func lockHome(h node.Home, what string) (*node.HomeLock, error) {
	lock, err := node.LockHome(h)
	var inUse *node.HomeInUseError
	if errors.As(err, &inUse) {
		running := fmt.Sprintf("%s already running on %s", what, h.Dir())
		if inUse.PID != 0 {
			running += fmt.Sprintf(" (pid %d)", inUse.PID)
		}
		return nil, fmt.Errorf("%s; stop it first, or use another --home (%w)", running, err)
	}
	return lock, err
}

// devnetPorts are the ports of the devnet command's flags, and which of them
// the user gave (a flag left at its default must not move a resumed home).
type devnetPorts struct {
	all      node.Ports // flag values, defaults included: for a new home
	explicit node.Ports // only the flags given; 0 = not given
}

func devnetPortsOf(cmd *cobra.Command, p2p, rpc int) devnetPorts {
	d := devnetPorts{all: node.Ports{P2P: p2p, RPC: rpc}}
	if cmd.Flags().Changed("p2p-port") {
		d.explicit.P2P = p2p
	}
	if cmd.Flags().Changed("rpc-port") {
		d.explicit.RPC = rpc
	}
	return d
}

// prepareDevnetHome creates the home, or resumes it with the ports given on
// the command line written into its config, so they are kept next time too.
func prepareDevnetHome(h node.Home, ports devnetPorts) error {
	if !network.DevnetMade(h) {
		fmt.Fprintf(os.Stderr, "creating a new development network in %s\n", h.Dir())
		return network.CreateDevnet(h, network.DevnetOptions{Ports: ports.all})
	}
	fmt.Fprintf(os.Stderr, "resuming the development network in %s\n", h.Dir())
	if ports.explicit == (node.Ports{}) {
		return nil
	}
	if err := node.SetListenPorts(h, ports.explicit); err != nil {
		return fmt.Errorf("setting the ports of %s: %w", h.Dir(), err)
	}
	now, err := node.ListenPorts(h)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "ports set in %s: rpc %d, p2p %d\n", h.ConfigFile(), now.RPC, now.P2P)
	return nil
}

// explainPortInUse adds what to do to a taken-port error: which flag picks
// another port (with a port free right now as an example), or, for a node
// whose ports only config.toml sets, which file to edit.
func explainPortInUse(err error, h node.Home, flags bool) error {
	var inUse *node.PortInUseError
	if !errors.As(err, &inUse) {
		return err
	}
	if !flags {
		return fmt.Errorf("%w; stop what listens on %s, or change %s.laddr in %s", err, inUse.Addr, inUse.Name, h.ConfigFile())
	}
	suggestion := "another port"
	if free, ferr := node.FreePort(); ferr == nil {
		suggestion = fmt.Sprint(free)
	}
	return fmt.Errorf("%w; stop what listens on %s, or start again with --%s-port %s (the home keeps the port given)", err, inUse.Addr, inUse.Name, suggestion)
}
