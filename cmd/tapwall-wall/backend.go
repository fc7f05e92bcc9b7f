package main

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"tapwall/game"
	"tapwall/netsync"
	"tapwall/render"
)

// backendFeeder streams every ScoreEvent through the durable outbox to the backend, and turns the
// backend's show commands into rounds scheduled on the show clock. It runs on the frame goroutine;
// the outbox and the client run on their own goroutines and never block it.
type backendFeeder struct {
	outbox *netsync.Outbox
	client *netsync.Client
	app    *render.App
	log    zerolog.Logger
	held   []netsync.Event // events the outbox's queue refused; retried every frame, in order
	full   int64
	stop   context.CancelFunc
	done   chan struct{}
}

func newBackendFeeder(ctx context.Context, url, wall, token, dir, ca string, local func() int64, log zerolog.Logger) (*backendFeeder, error) {
	tc, err := netsync.TLSWithCA(ca)
	if err != nil {
		return nil, err
	}
	ob, err := netsync.OpenOutbox(dir, 0, log)
	if err != nil {
		return nil, err
	}
	cl, err := netsync.NewClient(netsync.ClientConfig{URL: url, Wall: wall, Token: token, Outbox: ob, Log: log, Local: local, TLS: tc})
	if err != nil {
		return nil, err
	}
	f := &backendFeeder{outbox: ob, client: cl, log: log, done: make(chan struct{})}
	ctx, f.stop = context.WithCancel(ctx)
	go cl.Run(ctx)
	go func() { ob.Run(ctx); close(f.done) }()
	return f, nil
}

// close writes what the outbox still has queued to disk and closes it: called once the show ends,
// so a score made in the last frame is durable (and sent on the next start) rather than lost.
func (f *backendFeeder) close() {
	f.flush()
	if len(f.held) > 0 {
		f.log.Error().Int("events", len(f.held)).Msg("outbox queue still full at exit: these scores are only in the round journal")
	}
	f.stop()
	<-f.done
	if err := f.outbox.Close(); err != nil {
		f.log.Error().Err(err).Msg("outbox close")
	}
	f.log.Info().Int("unacknowledged", f.outbox.Depth()).Msg("outbox closed; unacknowledged scores are sent on the next start")
}

// onScore hands an event to the outbox, stamped with the show time of now.
func (f *backendFeeder) onScore(e game.ScoreEvent) {
	off, _, _ := f.client.Clock().Offset()
	e.ShowUS = f.app.Clock() + off // replaced by the round's StartUS in the show runner
	f.held = append(f.held, e)
	f.flush()
}

func (f *backendFeeder) flush() {
	n := 0
	for _, e := range f.held {
		if err := f.outbox.Submit(e); err != nil {
			f.full++
			if f.full == 1 || f.full%1000 == 0 {
				f.log.Error().Int("held", len(f.held)-n).Msg("outbox queue full (disk stalled?): scores held in memory and retried")
			}
			break
		}
		n++
	}
	f.held = append(f.held[:0], f.held[n:]...)
}

// Feed retries held events and applies the backend's show commands (render.Feeder).
func (f *backendFeeder) Feed(now int64, push func(game.Input)) {
	f.flush()
	for {
		select {
		case m := <-f.client.Commands():
			f.command(m, push, now)
			continue
		default:
		}
		return
	}
}

func (f *backendFeeder) command(m netsync.Message, push func(game.Input), now int64) {
	switch m.Type {
	case netsync.TypeStart:
		off, _, ok := f.client.Clock().Offset()
		if !ok {
			f.log.Warn().Msg("start command before the clock is synced: starting on the local clock")
		}
		countdown := f.app.Loop().CountdownTo(m.AtUS - off)
		if err := f.app.Show().Schedule(game.RoundParams{Round: m.Round, Game: m.Game, Seed: m.Seed, Countdown: countdown}); err != nil {
			f.log.Error().Err(err).Uint32("round", m.Round).Msg("start command refused")
			return
		}
		f.log.Info().Uint32("round", m.Round).Str("game", m.Game).Int64("at_us", m.AtUS).Int64("countdown_ticks", countdown).
			Msg("round scheduled by the backend")
	case netsync.TypeAbort:
		if r := f.app.Show().Round(); r != nil && r.Params().Round == m.Round {
			push(game.Input{Kind: game.KindAbort, Source: game.SourceBackend, TimeUS: now})
		}
	}
}

// HUD reports the link: state, RTT, offset, outbox depth, oldest unacknowledged age.
func (f *backendFeeder) HUD() []string {
	s := f.client.Status()
	link := "DOWN " + s.LastError
	if s.Connected {
		link = "up"
	}
	return []string{fmt.Sprintf("backend: %s  rtt %v  offset %d µs  outbox %d (+%d held)  oldest %v  reconnects %d",
		link, s.RTT, s.OffsetUS, s.Depth, len(f.held), s.OldestAge.Round(1e6), s.Reconnects)}
}
