package vm

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"

	"github.com/tetratelabs/wazero/api"
)

// http_get results below zero (the register holds a message).
const (
	HTTPErrCommand  = -1 // called from a command: never allowed, on every worker alike
	HTTPErrNotAllow = -2 // URL not http(s) or host not on the allow-list
	HTTPErrTooLarge = -3 // response larger than HTTPConfig.MaxBytes
	HTTPErrFetch    = -4 // network or server failure
)

func httpGet(st *callState, mod api.Module, s []uint64, gas uint64) {
	c := st.inst.m.e.cfg
	st.charge(gas)
	raw := st.readReturn(mod, uint32(s[0]), uint32(s[1]))
	status, body := fetch(st, c.HTTP, string(raw))
	if status < 0 {
		st.setRegister([]byte(body))
	} else {
		st.charge(uint64(len(body)) * c.Costs.PerByte)
		st.setRegister([]byte(body))
	}
	s[0] = uint64(uint32(int32(status)))
}

// fetch is only reached from queries, whose results are per worker anyway.
func fetch(st *callState, hc HTTPConfig, raw string) (int, string) {
	if st.call.Mode != Query || st.init {
		return HTTPErrCommand, "http_get is query-only"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return HTTPErrNotAllow, "not an http(s) URL"
	}
	if !slices.Contains(hc.AllowHosts, u.Host) && !slices.Contains(hc.AllowHosts, u.Hostname()) {
		return HTTPErrNotAllow, fmt.Sprintf("host %q not allowed", u.Host)
	}
	ctx, cancel := context.WithTimeout(st.ctx, hc.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return HTTPErrNotAllow, "bad request"
	}
	resp, err := hc.Client.Do(req)
	if err != nil {
		return HTTPErrFetch, "fetch failed"
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(hc.MaxBytes)+1))
	if err != nil {
		return HTTPErrFetch, "read failed"
	}
	if len(body) > hc.MaxBytes {
		return HTTPErrTooLarge, fmt.Sprintf("response over %d bytes", hc.MaxBytes)
	}
	return resp.StatusCode, string(body)
}
