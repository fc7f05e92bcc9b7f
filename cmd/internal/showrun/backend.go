package showrun

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"tapwall/game"
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
// backend's show commands on. The frame goroutine only calls submit and commands; the outbox and
// the client run on their own goroutines and never block it.
type backend struct {
	opt      BackendOptions
	outbox   *netsync.Outbox
	client   *netsync.Client
	log      zerolog.Logger
	held     []netsync.Event // events the outbox's queue refused; retried every frame, in order
	full     int64
	cancel   context.CancelFunc
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

// start runs the outbox writer and the client until ctx is cancelled or close is called.
func (b *backend) start(ctx context.Context) {
	ctx, b.cancel = context.WithCancel(ctx)
	go b.client.Run(ctx)
	go func() { b.runErr = b.outbox.Run(ctx); close(b.done) }()
}

// submit hands an event to the outbox, keeping it in memory while the outbox's queue is full.
func (b *backend) submit(e game.ScoreEvent) {
	b.held = append(b.held, e)
	b.flush()
}

func (b *backend) flush() {
	n := 0
	for _, e := range b.held {
		if err := b.outbox.Submit(e); err != nil {
			b.full++
			if b.full == 1 || b.full%1000 == 0 {
				b.log.Error().Int("held", len(b.held)-n).Msg("outbox queue full (disk stalled?): scores held in memory and retried")
			}
			break
		}
		n++
	}
	b.held = append(b.held[:0], b.held[n:]...)
}

// close writes what is still held and queued to disk and closes the outbox: the show's scores
// made up to the last frame are durable (and sent on the next start) rather than lost.
func (b *backend) close() {
	b.flush()
	if len(b.held) > 0 {
		b.log.Error().Int("events", len(b.held)).Msg("outbox queue still full at exit: these scores are only in the round journal")
	}
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
