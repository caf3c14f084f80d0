package relay

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the relay's Prometheus metrics, on a registry of their own so
// several relays (tests) can live in one process.
type Metrics struct {
	reg           *prometheus.Registry
	chainHeight   prometheus.Gauge
	runtimeHeight prometheus.Gauge
	blocksFed     prometheus.Counter
	batchesFed    prometheus.Counter
	refused       *prometheus.CounterVec
	egressSent    prometheus.Counter
	egressDup     prometheus.Counter
	registrations *prometheus.CounterVec
	retries       prometheus.Counter
	// foreignOperator is 1 while the runtime is registered under an
	// operator other than the relay's: an alert, not a statistic.
	foreignOperator prometheus.Gauge
}

// NewMetrics creates the relay's metrics.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg:           prometheus.NewRegistry(),
		chainHeight:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "phala_relay_chain_height", Help: "Newest height of the node the relay reads."}),
		runtimeHeight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "phala_relay_runtime_height", Help: "Last height the runtime verified."}),
		blocksFed:     prometheus.NewCounter(prometheus.CounterOpts{Name: "phala_relay_blocks_fed_total", Help: "Headers the runtime accepted."}),
		batchesFed:    prometheus.NewCounter(prometheus.CounterOpts{Name: "phala_relay_batches_fed_total", Help: "Batches the runtime accepted."}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "phala_relay_batches_refused_total", Help: "Batches the runtime refused, by error module and code."},
			[]string{"module", "code"}),
		egressSent: prometheus.NewCounter(prometheus.CounterOpts{Name: "phala_relay_egress_submitted_total", Help: "Egress messages the node's mempool accepted."}),
		egressDup:  prometheus.NewCounter(prometheus.CounterOpts{Name: "phala_relay_egress_duplicates_total", Help: "Egress messages the chain already had."}),
		registrations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "phala_relay_registration_attempts_total", Help: "Registrations submitted, by outcome."},
			[]string{"outcome"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "phala_relay_retries_total", Help: "Rounds that failed and were retried after a backoff."}),
		foreignOperator: prometheus.NewGauge(prometheus.GaugeOpts{Name: "phala_relay_runtime_foreign_operator",
			Help: "1 if the runtime is registered on chain under an operator other than this relay's (someone took it over), else 0."}),
	}
	m.reg.MustRegister(m.chainHeight, m.runtimeHeight, m.blocksFed, m.batchesFed, m.refused, m.egressSent, m.egressDup, m.registrations, m.retries, m.foreignOperator)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Registry is where the metrics are registered, for tests and embedding.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

func (m *Metrics) refusedBatch(r *Refused) {
	m.refused.WithLabelValues(r.Module, strconv.FormatUint(uint64(r.Code), 10)).Inc()
}
