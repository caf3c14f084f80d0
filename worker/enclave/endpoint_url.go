package enclave

// Advertise sets the URL of this node's public API that the runtime
// publishes on chain (registry.endpoint egress signed by its identity
// key) once it is registered and whenever the chain records another one;
// "" publishes nothing. The URL is the operator's word on where the host
// exposes the API: the runtime checks its form (registryapi.CheckEndpointURL),
// clients check what answers there by its signatures.
func (r *Runtime) Advertise(url string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if err := r.endpoint.Advertise(url); err != nil {
		return err // registryapi.ErrBadEndpoint, which says what is wrong
	}
	r.advertised = url
	return nil
}

// Endpoint is the advertised URL and the one the chain recorded for this
// node ("" none).
func (r *Runtime) Endpoint() (advertised, recorded string) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.advertised, r.endpoint.Recorded()
}
