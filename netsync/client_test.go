package netsync

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestBackoffIsJitteredExponentialAndCapped(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	waits := make(chan time.Duration, 64) // buffered: a wait after the test stops never blocks
	fire := make(chan time.Time)
	ob, err := OpenOutbox(t.TempDir(), 0, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	cl, err := NewClient(ClientConfig{URL: "ws://" + addr + "/ws", Wall: "w", Outbox: ob, Log: zerolog.Nop(), MaxBackoff: 2 * time.Second,
		After: func(d time.Duration) <-chan time.Time { waits <- d; return fire }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { cl.Run(ctx); close(done) }()
	var got []time.Duration
	for i := 0; i < 12; i++ {
		got = append(got, <-waits)
		fire <- time.Now()
	}
	cancel()
	<-done
	nominal := minBackoff
	for i, d := range got {
		if d < nominal/2 || d > nominal {
			t.Fatalf("wait %d is %v: want within [%v, %v] (jittered %v)", i, d, nominal/2, nominal, nominal)
		}
		nominal = min(2*nominal, 2*time.Second)
	}
	if got[11] < time.Second {
		t.Fatalf("the backoff never reached its cap: %v", got)
	}
}
