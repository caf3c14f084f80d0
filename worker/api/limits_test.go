package api

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/relay"
	"github.com/phala-go/phala/relaywire"
)

// failsafe is how long a test waits on the server before calling it stuck;
// every wait below ends sooner when the server behaves.
const failsafe = 5 * time.Second

// stubRelay answers the relay API paths the way NewRelayHandler does
// (readBody with the API's own limits), without its authentication, and
// reports each batch request it starts reading on entered.
func stubRelay(rt *fakeRuntime, entered chan<- struct{}) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(relaywire.PathStatus, func(w http.ResponseWriter, _ *http.Request) {
		writeCBOR(w, http.StatusOK, rt.Status())
	})
	mux.HandleFunc(relaywire.PathBlocks, func(w http.ResponseWriter, r *http.Request) {
		select {
		case entered <- struct{}{}:
		default:
		}
		body, err := readBody(r, MaxBatchBody)
		if err == nil {
			_, err = DecodeBatch(body)
		}
		if err != nil {
			writeError(w, err)
			return
		}
		writeCBOR(w, http.StatusOK, rt.Status())
	})
	mux.HandleFunc(relaywire.PathEvidence, func(w http.ResponseWriter, r *http.Request) {
		if _, err := readBody(r, MaxEvidenceBody); err != nil {
			writeError(w, err)
			return
		}
		writeCBOR(w, http.StatusOK, rt.Status())
	})
	return mux
}

func listenTest(t *testing.T, h http.Handler, l Limits) *Server {
	t.Helper()
	srv, err := listen("127.0.0.1:0", h, l)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.srv.Close(); <-srv.done })
	return srv
}

func addrOf(s *Server) string { return s.ln.Addr().String() }

// zeros is what the raw requests stream: shared, so sending allocates
// nothing the heap measurement would count.
var zeros = make([]byte, 64<<10)

// rawRequest is a request written by hand on its own connection: it sends
// the header declaring length (-1: chunked), then streams send bytes in the
// background while it reads the answer; the server may answer early.
type rawRequest struct {
	method, path, host string
	length, send       int64
}

func (q rawRequest) do(addr string) (*http.Response, []byte, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(failsafe))
	host := q.host
	if host == "" {
		host = addr
	}
	head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n", q.method, q.path, host, relaywire.ContentType)
	if q.length < 0 {
		head += "Transfer-Encoding: chunked\r\n"
	} else {
		head += fmt.Sprintf("Content-Length: %d\r\n", q.length)
	}
	if _, err := io.WriteString(conn, head+"\r\n"); err != nil {
		return nil, nil, err
	}
	go stream(conn, q.send, q.length < 0) // ends when the connection does
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func stream(w io.Writer, n int64, chunked bool) {
	for n > 0 {
		c := zeros[:min(n, int64(len(zeros)))]
		if chunked {
			if _, err := fmt.Fprintf(w, "%x\r\n", len(c)); err != nil {
				return
			}
		}
		if _, err := w.Write(c); err != nil {
			return
		}
		if chunked {
			if _, err := io.WriteString(w, "\r\n"); err != nil {
				return
			}
		}
		n -= int64(len(c))
	}
}

// wantRefusal checks a CBOR refusal's status and coded error.
func wantRefusal(t *testing.T, resp *http.Response, body []byte, status int, want *errs.Error) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %q", resp.StatusCode, status, body)
	}
	var e relaywire.Error
	if err := codec.Unmarshal(body, &e); err != nil {
		t.Fatalf("refusal does not decode: %v (%q)", err, body)
	}
	if e.Module != Module || e.Code != want.Code {
		t.Fatalf("refusal %s/%d %q, want %s/%d", e.Module, e.Code, e.Message, Module, want.Code)
	}
}

// The batch bound is sized for the relay's default batch, and is well under
// the 64 MiB each request could buffer before.
func TestBatchBound(t *testing.T) {
	if relay.DefaultBatchSize > MaxBatchBlocks {
		t.Fatalf("relay batches %d blocks, the API's bound is sized for %d", relay.DefaultBatchSize, MaxBatchBlocks)
	}
	if MaxBatchBody >= 32<<20 || MaxBatchBody < 4<<20 {
		t.Fatalf("MaxBatchBody %d out of range", MaxBatchBody)
	}
	if RelayLimits().Routes[relaywire.PathBlocks].Slots != 1 {
		t.Fatal("batches are not admitted one at a time")
	}
}

// heapUse is the heap in use after a collection and the bytes ever
// allocated: the second counts what was buffered and dropped.
func heapUse() (inUse, total uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.TotalAlloc
}

// Issue 12 item 2: while one batch is being read, eight oversized batches
// and eight more full-sized ones are refused (413, 503) without their bodies
// being read, the heap stays flat, and status stays quick.
func TestFloodRefusedWithoutBuffering(t *testing.T) {
	entered := make(chan struct{}, 1)
	srv := listenTest(t, stubRelay(&fakeRuntime{}, entered), RelayLimits())
	addr := addrOf(srv)

	// A batch that stalls mid-body holds the one batch slot.
	holder := make(chan error, 1)
	go func() {
		_, _, err := rawRequest{method: "POST", path: relaywire.PathBlocks, length: 1 << 20, send: 1 << 10}.do(addr)
		holder <- err
	}()
	select {
	case <-entered:
	case <-time.After(failsafe):
		t.Fatal("the holding batch never reached the handler")
	}

	inUse0, total0 := heapUse()
	type answer struct {
		resp *http.Response
		body []byte
		err  error
		want int
	}
	answers := make(chan answer, 16)
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		q, want := rawRequest{method: "POST", path: relaywire.PathBlocks, length: MaxBatchBody + 1, send: MaxBatchBody + 1}, http.StatusRequestEntityTooLarge
		if i%2 == 1 {
			q, want = rawRequest{method: "POST", path: relaywire.PathBlocks, length: MaxBatchBody, send: MaxBatchBody}, http.StatusServiceUnavailable
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body, err := q.do(addr)
			answers <- answer{resp, body, err, want}
		}()
	}

	start := time.Now()
	resp, err := http.Get("http://" + addr + relaywire.PathStatus)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := time.Since(start); resp.StatusCode != http.StatusOK || d > time.Second {
		t.Fatalf("status during the flood: %d after %v", resp.StatusCode, d)
	}

	wg.Wait()
	close(answers)
	for a := range answers {
		if a.err != nil {
			t.Fatal(a.err)
		}
		want := ErrTooLarge
		if a.want == http.StatusServiceUnavailable {
			want = ErrBusy
		}
		wantRefusal(t, a.resp, a.body, a.want, want)
	}
	inUse1, total1 := heapUse()
	t.Logf("flood: %d bytes allocated, %d more in use after GC", total1-total0, int64(inUse1)-int64(inUse0))
	const bound = 8 << 20 // sixteen bodies of ~19.5 MiB were offered
	if total1-total0 > bound || int64(inUse1)-int64(inUse0) > bound {
		t.Fatalf("heap grew: %d bytes allocated, %d more in use (bound %d)", total1-total0, int64(inUse1)-int64(inUse0), bound)
	}
	srv.srv.Close()
	<-holder
}

// A body of unknown length is cut at the route's limit.
func TestChunkedBatchOverLimit(t *testing.T) {
	srv := listenTest(t, stubRelay(&fakeRuntime{}, nil), RelayLimits())
	resp, body, err := rawRequest{method: "POST", path: relaywire.PathBlocks, length: -1, send: MaxBatchBody + 1}.do(addrOf(srv))
	if err != nil {
		t.Fatal(err)
	}
	wantRefusal(t, resp, body, http.StatusRequestEntityTooLarge, ErrTooLarge)
}

// Each route reads only what it needs: an evidence request is tiny and a
// GET has no body.
func TestRouteLimits(t *testing.T) {
	srv := listenTest(t, stubRelay(&fakeRuntime{}, nil), RelayLimits())
	for _, q := range []rawRequest{
		{method: "POST", path: relaywire.PathEvidence, length: MaxEvidenceBody + 1, send: MaxEvidenceBody + 1},
		{method: "POST", path: relaywire.PathEvidence, length: -1, send: MaxEvidenceBody + 1},
		{method: "GET", path: relaywire.PathStatus, length: 1, send: 1},
		{method: "GET", path: "/elsewhere", length: 1, send: 1},
	} {
		resp, body, err := q.do(addrOf(srv))
		if err != nil {
			t.Fatal(err)
		}
		wantRefusal(t, resp, body, http.StatusRequestEntityTooLarge, ErrTooLarge)
	}
	// Within the limits the requests get through.
	resp, body, err := rawRequest{method: "POST", path: relaywire.PathEvidence, length: MaxEvidenceBody, send: MaxEvidenceBody}.do(addrOf(srv))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("evidence within the limit: %v %v %q", err, resp, body)
	}
}

// DNS rebinding: a loopback server answers only its own names.
func TestHostChecked(t *testing.T) {
	srv := listenTest(t, stubRelay(&fakeRuntime{}, nil), RelayLimits())
	port := srv.ln.Addr().(*net.TCPAddr).Port
	for _, host := range []string{"evil.example", fmt.Sprintf("evil.example:%d", port), "127.0.0.1", fmt.Sprintf("127.0.0.1:%d", port+1)} {
		resp, body, err := rawRequest{method: "GET", path: relaywire.PathStatus, host: host}.do(addrOf(srv))
		if err != nil {
			t.Fatal(err)
		}
		wantRefusal(t, resp, body, http.StatusMisdirectedRequest, ErrHost)
	}
	for _, host := range []string{"127.0.0.1", "localhost", "LOCALHOST", "[::1]"} {
		resp, body, err := rawRequest{method: "GET", path: relaywire.PathStatus, host: fmt.Sprintf("%s:%d", host, port)}.do(addrOf(srv))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("Host %s: %v %v %q", host, err, resp, body)
		}
	}

	// The public API refuses in its JSON.
	pub := listenTest(t, NewPublicHandler(&fakeRuntime{}), limitsOf(NewPublicHandler(&fakeRuntime{})))
	req, _ := http.NewRequest(http.MethodGet, "http://"+addrOf(pub)+PublicPathStatus, nil)
	req.Host = "evil.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest || !strings.Contains(string(body), `"code":21`) {
		t.Fatalf("public API, Host evil.example: %d %s", resp.StatusCode, body)
	}
}

// Public handlers carry their own limits through Listen.
func TestPublicLimits(t *testing.T) {
	if l := limitsOf(NewPublicHandler(&fakeRuntime{})); l.Errors != ErrorsJSON || l.Routes[PublicPathStatus].MaxBody != 0 {
		t.Fatalf("public handler limits %+v", l)
	}
	if l := limitsOf(http.NewServeMux()); l.Errors != ErrorsCBOR || l.Routes[relaywire.PathBlocks].MaxBody != MaxBatchBody {
		t.Fatalf("default limits %+v", l)
	}
}

// shortLimits are the relay limits with timeouts a test can wait out.
func shortLimits() Limits {
	l := RelayLimits()
	l.Timeouts = Timeouts{ReadHeader: 100 * time.Millisecond, Read: 300 * time.Millisecond, Write: 300 * time.Millisecond, Idle: 200 * time.Millisecond}
	return l
}

// closedBy says whether the server ended the connection (EOF or reset)
// rather than our failsafe deadline.
func closedBy(t *testing.T, conn net.Conn) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(failsafe))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept the connection open")
	}
}

func TestReadHeaderTimeout(t *testing.T) {
	srv := listenTest(t, stubRelay(&fakeRuntime{}, nil), shortLimits())
	conn, err := net.Dial("tcp", addrOf(srv))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /v1/status HTTP/1.1\r\n") // and never the rest
	closedBy(t, conn)
}

func TestReadTimeout(t *testing.T) {
	srv := listenTest(t, stubRelay(&fakeRuntime{}, nil), shortLimits())
	conn, err := net.Dial("tcp", addrOf(srv))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: 1000\r\n\r\nabc", relaywire.PathBlocks, addrOf(srv), relaywire.ContentType)
	closedBy(t, conn)
}

// A client that stops reading cannot hold a handler past the write timeout.
func TestWriteTimeout(t *testing.T) {
	failed := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for sent := 0; sent < 1<<30; sent += len(zeros) {
			if _, err := w.Write(zeros); err != nil {
				failed <- err
				return
			}
		}
		failed <- nil
	})
	srv := listenTest(t, h, shortLimits())
	conn, err := net.Dial("tcp", addrOf(srv))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /x HTTP/1.1\r\nHost: %s\r\n\r\n", addrOf(srv)) // and never read
	select {
	case err := <-failed:
		if err == nil {
			t.Fatal("the handler wrote 1 GiB to a client that reads nothing")
		}
	case <-time.After(failsafe):
		t.Fatal("the handler is still writing")
	}
}

func TestIdleTimeout(t *testing.T) {
	srv := listenTest(t, stubRelay(&fakeRuntime{}, nil), shortLimits())
	conn, err := net.Dial("tcp", addrOf(srv))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", relaywire.PathStatus, addrOf(srv))
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	closedBy(t, conn) // kept alive, then closed once idle
}
