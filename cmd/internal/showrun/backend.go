package showrun

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/rs/zerolog"

	"tapwall/netsync"
)

// BackendOptions connect the show to the scoring backend.
type BackendOptions struct {
	URL    string // ws://HOST:PORT/ws or wss://...
	Wall   string
	Token  string
	Outbox string // directory of the durable outbox
	CA     string // PEM certificate to trust for wss://
}

// backend streams every ScoreEvent through the durable outbox to the backend and passes the
// backend's show commands on. The frame goroutine hands events to the runner's gate and reads
// commands; the gate, the outbox and the client run on their own goroutines and never block it.
type backend struct {
	opt      BackendOptions
	outbox   *netsync.Outbox
	client   *netsync.Client
	log      zerolog.Logger
	cancel   context.CancelFunc
	ctx      context.Context
	clientOn atomic.Bool
	done     chan struct{}
	runErr   error // the outbox writer's last word: events not on disk at exit
	welcomed bool  // the backend's numbering has been applied to the show
}

func openBackend(opt BackendOptions, local func() int64, log zerolog.Logger) (*backend, error) {
	tc, err := netsync.TLSWithCA(opt.CA)
	if err != nil {
		return nil, err
	}
	ob, err := netsync.OpenOutbox(opt.Outbox, 0, log)
	if err != nil {
		return nil, err
	}
	cl, err := netsync.NewClient(netsync.ClientConfig{URL: opt.URL, Wall: opt.Wall, Token: opt.Token, Outbox: ob, Log: log, Local: local, TLS: tc})
	if err != nil {
		return nil, err
	}
	return &backend{opt: opt, outbox: ob, client: cl, log: log, done: make(chan struct{}), cancel: func() {}}, nil
}

// start runs the outbox writer until ctx is cancelled or close is called; withClient also runs
// the client (a standby writes its outbox but connects only once promoted: startClient).
func (b *backend) start(ctx context.Context, withClient bool) {
	ctx, b.cancel = context.WithCancel(ctx)
	b.ctx = ctx
	if withClient {
		b.startClient()
	}
	go func() { b.runErr = b.outbox.Run(ctx); close(b.done) }()
}

// startClient connects to the backend (any goroutine, once).
func (b *backend) startClient() {
	if b.clientOn.Swap(true) {
		return
	}
	go b.client.Run(b.ctx)
}

// close writes what is still queued to disk and closes the outbox: the show's scores made up to
// the last frame are durable (and sent on the next start) rather than lost. Call it once the
// gate has released everything it held.
func (b *backend) close() {
	b.cancel() // a cancelled outbox writes everything still queued before it returns
	<-b.done
	if b.runErr != nil {
		b.log.Error().Err(b.runErr).Msg("outbox writer at exit")
	}
	if err := b.outbox.Close(); err != nil {
		b.log.Error().Err(err).Msg("outbox close")
	}
	b.log.Info().Int("unacknowledged", b.outbox.Depth()).Msg("outbox closed; unacknowledged scores are sent on the next start")
}

// link returns the link's state for /status: "up", "gap", "wall_in_use", "fenced", or
// "down: why".
func (b *backend) link() (state string, st netsync.Status) {
	st = b.client.Status()
	switch {
	case st.State != netsync.LinkDown:
		return st.State, st
	case st.LastError == "":
		return "connecting", st
	}
	return fmt.Sprintf("down: %s", st.LastError), st
}
