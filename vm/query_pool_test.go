package vm

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestQueriesRunInParallel: QueryReactors queries of one instance run at
// once. Each asks an HTTP server that answers only when all of them are
// waiting on it, which serialised queries never reach; one more query
// waits for a reactor and gives up when its context ends.
func TestQueriesRunInParallel(t *testing.T) {
	const n = 3
	var mu sync.Mutex
	waiting := 0
	all := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if waiting++; waiting == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
			_, _ = w.Write([]byte("together"))
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	e := newEngine(t, Config{QueryReactors: n, HTTP: HTTPConfig{AllowHosts: []string{strings.TrimPrefix(srv.URL, "http://")}, Timeout: time.Minute}})
	inst := loadProbe(t, e).NewInstance(testEnv(nil))
	defer inst.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := make(chan error, n)
	for range n {
		go func() {
			res, err := inst.Call(ctx, Call{Mode: Query, Input: msg("http", kv{Key: srv.URL}), GasLimit: gasLimit})
			if err == nil && string(res.Output) != `"200 together"` {
				err = errors.New("answer " + string(res.Output))
			}
			errs <- err
		}()
	}
	// While the n hold every reactor, one more query waits and times out.
	for {
		mu.Lock()
		w := waiting
		mu.Unlock()
		if w == n-1 || w == n {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the queries did not reach the server")
		}
		time.Sleep(time.Millisecond)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := len(inst.queries.idle); got != n {
		t.Fatalf("%d idle query reactors after %d parallel queries, want %d", got, n, n)
	}
}

// TestQueryWaitsForAReactor: with every query reactor busy, another
// query waits, and gives up with ErrBusy when its context ends.
func TestQueryWaitsForAReactor(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	defer srv.Close()
	e := newEngine(t, Config{QueryReactors: 1, HTTP: HTTPConfig{AllowHosts: []string{strings.TrimPrefix(srv.URL, "http://")}, Timeout: time.Minute}})
	inst := loadProbe(t, e).NewInstance(testEnv(nil))
	defer inst.Close(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := inst.Call(context.Background(), Call{Mode: Query, Input: msg("http", kv{Key: srv.URL}), GasLimit: gasLimit})
		done <- err
	}()
	<-arrived
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := inst.Call(ctx, Call{Mode: Query, Input: msg("get", kv{Key: "a"}), GasLimit: gasLimit})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("a query with every reactor busy: %v, want ErrBusy", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := inst.Call(context.Background(), Call{Mode: Query, Input: msg("scan", kv{Key: "a"}), GasLimit: gasLimit}); err != nil {
		t.Fatalf("a query once the reactor is free: %v", err)
	}
}

// TestConcurrentQueriesResetAndClose: queries from many goroutines share
// the store and the pool with a Reset and then a Close (run with -race);
// every query either answers from the store or, after Close, says
// ErrClosed.
func TestConcurrentQueriesResetAndClose(t *testing.T) {
	e := newEngine(t, Config{})
	store := NewMemStore()
	_ = store.Set([]byte("a"), []byte("1"))
	inst := loadProbe(t, e).NewInstance(testEnv(store))
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				res, err := inst.Call(ctx, Call{Mode: Query, Input: msg("get", kv{Key: "a"}), GasLimit: gasLimit})
				switch {
				case errors.Is(err, ErrClosed):
					return
				case err != nil || string(res.Output) != `"1"`:
					t.Errorf("query: %v %s", err, res.Output)
					return
				}
			}
		}()
	}
	if err := inst.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := inst.Close(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}
