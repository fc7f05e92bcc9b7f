package showrun

import (
	"errors"
	"fmt"
	"time"

	"tapwall/game"
	"tapwall/netsync"
	"tapwall/render/scene"
)

// stopFollow ends the follow link (a promoted, diverged or closing standby) and waits for its
// reader to stop (it closes its connection at once): from then on nothing more is acknowledged
// to the primary, and every tick acknowledged is in the Messages queue.
func (r *Runner) stopFollow() {
	if r.followCancel == nil {
		return
	}
	r.followCancel()
	r.followCancel = nil
	select {
	case <-r.followDone:
	case <-time.After(2 * time.Second): // the reader closes its own connection: never seen to take this long
		r.log.Error().Msg("the follow link's reader did not stop within 2 s")
	}
}

// followFrame is Frame for a standby: it steps exactly the primary's ticks as they arrive,
// checking the show's hash after each; its window and desk keys do nothing but promote; it promotes
// itself after standby.promote_after_ms of silence from the primary.
func (r *Runner) followFrame(now int64, win *scene.Input) bool {
	if err := r.fclient.Fatal(); err != nil {
		r.fatal = err
		r.log.Error().Err(err).Msg("this standby cannot follow its primary")
		return false
	}
	if r.quit.Load() {
		return false
	}
	if n := r.opt.ExitAfterTicks; n > 0 && r.show.Tick() >= n && (r.opt.Screenshot == "" || r.shotTaken) {
		return false
	}
	r.out = r.out[:0] // a standby's keys act on nothing but itself: their inputs are dropped
	if win != nil {
		r.ui(r.windowKeys(now, win), "window keys")
	}
	r.deskKeys()
	r.out = r.out[:0]
	r.consoleInputs(now)
	if r.role == RolePrimary { // promoted by a key or the console in this frame
		return r.Frame(now, nil)
	}
	budget := time.Duration(r.cfg.Render.StepBudgetMS) * time.Millisecond
	t0 := time.Now()
	for time.Since(t0) < budget && (r.opt.ExitAfterTicks == 0 || r.show.Tick() < r.opt.ExitAfterTicks) {
		select {
		case m := <-r.fclient.Messages():
			r.follow(m, now)
			continue
		default:
		}
		break
	}
	if r.role == RoleStandby && r.cfg.Standby.PromoteAfterMS > 0 && !r.fclient.Dropped() {
		_, at := r.fclient.Primary()
		if silent := now - at; at > 0 && silent > int64(r.cfg.Standby.PromoteAfterMS)*1000 {
			if err := r.promote(now, fmt.Sprintf("the primary's ticks stopped %d ms ago", silent/1000)); err == nil {
				return r.Frame(now, nil)
			}
		}
	}
	r.housekeep(now)
	return true
}

// follow applies one message of the primary's stream: a snapshot rebuilds the show, a tick
// record steps it.
func (r *Runner) follow(m netsync.FollowMsg, now int64) {
	if r.role == RoleDiverged { // its link is stopped: what is still queued changes nothing
		return
	}
	switch m.Type {
	case netsync.FollowSnapshot:
		if err := r.restore(m, now); err != nil {
			r.diverge(m.Tick, "snapshot: "+err.Error(), now)
		}
	case netsync.FollowTick:
		if r.role != RoleStandby || r.foreign {
			return
		}
		if err := r.applyRecord(&m); err != nil {
			r.diverge(m.T, err.Error(), now)
		}
	}
}

// restore rebuilds the show from the primary's snapshot: its base, then every tick since.
func (r *Runner) restore(m netsync.FollowMsg, now int64) error {
	if m.Base == nil || m.Rate != r.cfg.Round.TickRate {
		return errors.New("no base, or another tick rate")
	}
	if r.followed != "" && m.ShowID != r.followed {
		// The primary's address now serves another show: it was restarted and lost the show this
		// standby holds. The standby keeps its show and stops following the address: it
		// acknowledges none of the other show's ticks, and the link's last sight of a primary
		// advancing stands (the old primary's, or this snapshot's arrival when its tick is
		// higher), so the silence still promotes this standby after promote_after_ms.
		if !r.foreign {
			r.foreign = true
			r.stopFollow()
			msg := fmt.Sprintf("THE PRIMARY AT %s NOW SERVES ANOTHER SHOW (restarted?): this standby keeps the show it holds, no longer follows that address, and takes over when promoted", r.opt.Follow)
			r.alarms.set(AlarmStandby, -1, msg, now)
			r.log.Error().Str("show", m.ShowID).Str("followed", r.followed).Msg(msg)
		}
		return nil
	}
	r.foreign = false
	r.show.Close()
	if r.journal != nil { // a rejoin writes its journals afresh, under new names
		if r.journalStop != nil {
			r.journalStop() // the old writer writes what the old show queued, then ends
		}
		r.journal = newJournalWriter(r.opt.JournalDir, time.Now(), r.log, r.journalMoved)
		r.runJournal()
	}
	sh, err := game.RestoreShow(r.cfg, *m.Base, r.openJournal)
	if err != nil {
		return err
	}
	r.show, r.lastRound = sh, nil
	off, _ := r.fclient.Offset()
	r.primaryOrigin, r.primaryEpoch = m.OriginUS, m.Epoch
	r.loop = game.NewLoop(r.cfg.Round.TickRate, m.OriginUS+off)
	r.loop.SetNext(m.Base.Tick)
	r.base, r.since, r.sinceEnds = *m.Base, r.since[:0], r.sinceEnds[:0]
	if r.fps.at == 0 {
		r.fps.start(now)
	}
	for i := range m.Ticks {
		if err := r.applyRecord(&m.Ticks[i]); err != nil {
			return err
		}
	}
	if r.show.Tick() != m.Tick {
		return fmt.Errorf("the snapshot ends at tick %d, the show at %d", m.Tick, r.show.Tick())
	}
	r.role, r.followed, r.showID = RoleStandby, m.ShowID, m.ShowID
	r.alarms.clear(AlarmStandby, -1)
	r.log.Info().Int64("tick", m.Tick).Int64("base_tick", m.Base.Tick).Int("ticks", len(m.Ticks)).Uint64("epoch", m.Epoch).
		Str("primary", r.opt.Follow).Msg("following the primary")
	return nil
}

// applyRecord steps the primary's tick: its inputs, the round it began, then checks the hash.
func (r *Runner) applyRecord(m *netsync.FollowMsg) error {
	if m.T-m.Skip != r.show.Tick() {
		return fmt.Errorf("record for tick %d (after %d empty ticks), the show is at tick %d", m.T, m.Skip, r.show.Tick())
	}
	for k := m.T - m.Skip; k < m.T; k++ { // a snapshot's run of ticks with nothing in them
		r.loop.SetNext(k)
		r.show.Step(nil)
		r.afterStep(k, nil, false)
	}
	r.followIn = r.followIn[:0]
	for _, raw := range m.Inputs {
		ti, err := game.ParseInputLine(raw, r.cfg)
		if err != nil {
			return fmt.Errorf("tick %d: input %s: %v", m.T, raw, err)
		}
		r.followIn = append(r.followIn, ti.Input)
	}
	if m.Began != nil {
		// Expect first: a scheduled round begins in Schedule, and must take the primary's
		// parameters (its StartUS above all: every event's show_us derives from it).
		if err := r.show.Expect(*m.Began); err != nil {
			return fmt.Errorf("tick %d: the round begun: %w", m.T, err)
		}
		if m.Sched {
			if err := r.show.Schedule(*m.Began); err != nil {
				return fmt.Errorf("tick %d: %v", m.T, err)
			}
		}
	}
	r.loop.SetNext(m.T)
	r.show.Step(r.followIn)
	r.afterStep(m.T, r.followIn, m.Began != nil && m.Sched)
	r.loop.SetNext(m.T + 1)
	// recordTick (in afterStep) hashed the show after this tick: compared without allocating.
	if string(game.AppendHash(r.hashBuf[:0], r.lastHash)) != m.Hash {
		return fmt.Errorf("state hash after tick %d is %s, the primary's %s", m.T, game.FormatHash(r.lastHash), m.Hash)
	}
	return nil
}

// diverge marks this standby as no longer the same show as its primary: it never promotes itself.
func (r *Runner) diverge(tick int64, why string, now int64) {
	if r.role == RoleDiverged {
		return
	}
	r.role = RoleDiverged
	msg := fmt.Sprintf("STANDBY DIVERGED at tick %d: %s — it will not take over; restart it with --follow to rejoin", tick, why)
	r.alarms.set(AlarmStandby, -1, msg, now)
	r.stopFollow()
}
