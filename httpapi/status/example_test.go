package status_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/maskstream/maskstream/httpapi/status"
)

// A daemon fills a Snapshot from its processor and rulesets store; here a
// fixed one stands in.
func ExampleHandler() {
	started := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	src := status.SourceFunc(func() status.Snapshot {
		return status.Snapshot{
			Version:   "1.0.0",
			StartedAt: started,
			Routes: []status.Route{{
				Name: "orders", State: "running",
				Source: "kafka prod: orders", Sink: "kafka dev: {topic}.masked",
				RecordsIn: 500, RecordsOut: 498, InRate: 25, OutRate: 24.9,
			}},
		}
	})
	h := status.Handler(src, status.WithClock(func() time.Time { return started.Add(time.Hour) }))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status.json", nil))
	var snap status.Snapshot
	if err := json.Unmarshal(rec.Body.Bytes(), &snap); err != nil {
		panic(err)
	}
	r := snap.Routes[0]
	fmt.Println(rec.Header().Get("Content-Type"))
	fmt.Printf("uptime %.0fs; %s %s: %.1f records/s out\n", snap.UptimeSeconds, r.Name, r.State, r.OutRate)
	// Output:
	// application/json
	// uptime 3600s; orders running: 24.9 records/s out
}
