// Command probe is the VM's test contract: one method per behaviour the
// host must survive or serve.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
	"unsafe"

	"github.com/phala-go/phala/sdk"
)

type N struct {
	N int `json:"n"`
}

type KV struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

var sink []byte

func depth(n int) int {
	var pad [64]byte
	pad[n%64] = byte(n)
	return depth(n+1) + int(pad[0])
}

// Pay is one payment: To (hex address) and Amount (decimal base units).
type Pay struct {
	To     sdk.Address `json:"to"`
	Amount sdk.Amount  `json:"amount"`
}

// Peer names another contract's method and its JSON arguments.
type Peer struct {
	Contract sdk.Address     `json:"contract"`
	Method   string          `json:"method"`
	Args     json.RawMessage `json:"args"`
}

// Money is what value and balance read.
type Money struct {
	Value   sdk.Amount `json:"value"`
	Balance sdk.Amount `json:"balance"`
}

func money() Money { return Money{Value: sdk.Value(), Balance: sdk.Balance()} }

func pays(ps []Pay) (Money, error) {
	for _, p := range ps {
		sdk.Pay(p.To, p.Amount)
	}
	return money(), nil
}

func init() {
	sdk.Command("money", func(sdk.Empty) (Money, error) { return money(), nil })
	sdk.Query("money", func(sdk.Empty) (Money, error) { return money(), nil })
	sdk.Command("pay", pays)
	sdk.Query("pay", pays)
	sdk.Command("pay_then_fail", func(ps []Pay) (Money, error) {
		pays(ps)
		return Money{}, fmt.Errorf("refused after paying")
	})
	sdk.Command("send", func(ps []Peer) (sdk.Empty, error) {
		for _, p := range ps {
			if err := sdk.Send(p.Contract, p.Method, p.Args); err != nil {
				return sdk.Empty{}, err
			}
		}
		return sdk.Empty{}, nil
	})
	sdk.Query("send", func(p Peer) (sdk.Empty, error) { return sdk.Empty{}, sdk.Send(p.Contract, p.Method, p.Args) })
	ask := func(p Peer) (json.RawMessage, error) {
		var out json.RawMessage
		err := sdk.QueryContract(p.Contract, p.Method, p.Args, &out)
		return out, err
	}
	sdk.Query("ask", ask)
	sdk.Command("ask", ask)
	sdk.Query("whoami", func(sdk.Empty) (string, error) { return fmt.Sprintf("%x@%x", sdk.Caller(), sdk.ContractID()), nil })
	sdk.Command("noop", func(sdk.Empty) (sdk.Empty, error) { return sdk.Empty{}, nil })
	sdk.Command("set", func(kv KV) (sdk.Empty, error) {
		sdk.Set([]byte(kv.Key), []byte(kv.Value))
		return sdk.Empty{}, nil
	})
	sdk.Command("delete", func(kv KV) (sdk.Empty, error) {
		sdk.Delete([]byte(kv.Key))
		return sdk.Empty{}, nil
	})
	sdk.Command("set_then_fail", func(kv KV) (sdk.Empty, error) {
		sdk.Set([]byte(kv.Key), []byte(kv.Value))
		sdk.Emit("x", nil)
		return sdk.Empty{}, fmt.Errorf("refused %s", kv.Key)
	})
	sdk.Query("get", func(kv KV) (string, error) {
		v, ok := sdk.Get([]byte(kv.Key))
		if !ok {
			return "", fmt.Errorf("no %s", kv.Key)
		}
		return string(v), nil
	})
	sdk.Command("fill", func(n N) (int, error) { // storage-heavy
		m := sdk.NewMap[int]("fill")
		for i := 0; i < n.N; i++ {
			if err := m.Set(fmt.Sprintf("%06d", i), i); err != nil {
				return 0, err
			}
		}
		sum := 0
		err := m.Each(func(_ string, v int) bool { sum += v; return true })
		return sum, err
	})
	sdk.Query("scan", func(kv KV) ([]string, error) {
		var out []string
		sdk.Scan([]byte(kv.Key), func(k, v []byte) bool { out = append(out, string(k)+"="+string(v)); return true })
		return out, nil
	})
	sdk.Command("spin", func(n N) (int, error) { // a tight loop
		x := 0
		for i := 0; i < n.N; i++ {
			x = x*31 + i
		}
		return x, nil
	})
	sdk.Command("loop", func(sdk.Empty) (int, error) {
		for i := 0; ; i++ {
			if i < 0 {
				return i, nil
			}
		}
	})
	sdk.Command("recurse", func(sdk.Empty) (int, error) { return depth(0), nil })
	sdk.Command("alloc", func(n N) (int, error) { // grows the memory by about n MiB and keeps it
		sink = make([]byte, n.N<<20)
		return len(sink), nil
	})
	sdk.Command("grow", func(sdk.Empty) (int, error) {
		for {
			sink = append(sink, make([]byte, 1<<20)...)
		}
	})
	sdk.Command("trap", func(sdk.Empty) (int, error) {
		var b byte
		far := 0xFFFF_FFF0 - uintptr(unsafe.Pointer(&b))
		p := (*byte)(unsafe.Add(unsafe.Pointer(&b), far)) // address 0xFFFFFFF0: past any memory we allow
		return int(*p), nil
	})
	sdk.Command("panic", func(sdk.Empty) (int, error) { panic("boom") })
	sdk.Command("fatal", func(sdk.Empty) (int, error) { // unrecoverable: a panic on another goroutine
		done := make(chan int)
		go func() { panic("fatal boom") }()
		return <-done, nil
	})
	sdk.Command("deadlock", func(sdk.Empty) (int, error) { select {} })
	sdk.Command("sleep", func(sdk.Empty) (int64, error) { // goroutines and timers work, deterministically
		t0 := time.Now()
		ch := make(chan int)
		go func() { time.Sleep(time.Second); ch <- 7 }()
		v := <-ch
		return int64(v) + int64(time.Since(t0)/time.Second)*100, nil
	})
	sdk.Command("exit", func(sdk.Empty) (int, error) {
		fmt.Fprintln(os.Stderr, "leaving")
		os.Exit(3)
		return 0, nil
	})
	sdk.Command("env", func(sdk.Empty) (map[string]any, error) {
		b := sdk.Block()
		sdk.EmitTo("secret", []byte("hi"), sdk.Caller(), []byte("bob"))
		sdk.Emit("public", []byte("all"))
		return map[string]any{
			"caller": string(sdk.Caller()), "contract": string(sdk.ContractID()),
			"height": b.Height, "time": b.Time, "random": sdk.Random(8),
			"pub": sdk.PublicKey("oracle"), "sig": sdk.Sign("oracle", []byte("msg")),
		}, nil
	})
	sdk.Query("http", func(kv KV) (string, error) {
		status, body, err := sdk.HTTPGet(kv.Key)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d %s", status, body), nil
	})
	sdk.Command("http_cmd", func(kv KV) (string, error) {
		_, _, err := sdk.HTTPGet(kv.Key)
		return "", err
	})
}

func main() {}

//go:wasmexport probe_nop
func probeNop() {}
