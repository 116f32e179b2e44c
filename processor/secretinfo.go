package processor

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/maskstream/maskstream/engine"
)

// RegisterSecretInfo registers maskstream_run_secret_info{fingerprint} = 1
// for the process's run secret (sec.Fingerprint()).
//
// Instances that mask one stream with different secrets, one replica
// left on an old secret after a rotation or a secret file with a stray
// character, mask the same value differently and break every join, and
// nothing else shows it: each instance is healthy on its own. A label that
// differs between instances of one job is something an alert can see
// (MaskstreamRunSecretsDiffer). The fingerprint is stretched
// (engine.Secret.Fingerprint), as anyone who reads /metrics may test
// guesses at the secret against it.
func RegisterSecretInfo(reg prometheus.Registerer, sec *engine.Secret) error {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace:   Namespace,
		Name:        "run_secret_info",
		Help:        "1, labelled with the fingerprint of the run secret this process masks with; instances of one deployment must all show the same.",
		ConstLabels: prometheus.Labels{"fingerprint": sec.Fingerprint()},
	})
	g.Set(1)
	if err := reg.Register(g); err != nil {
		if are := (prometheus.AlreadyRegisteredError{}); errors.As(err, &are) {
			return nil
		}
		return err
	}
	return nil
}
