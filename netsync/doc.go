// Package netsync is the wall's side of the link to the show's scoring backend: a durable outbox
// of score events (Outbox), a WebSocket client that streams it and receives the backend's show
// commands (Client), time sync to the backend's show clock (ClockSync), and the protocol's
// messages (docs/protocol.md). The backend's side, scorehub's hub and store, is netsync/hub.
//
// # Scores
//
// The game hands every ScoreEvent to Outbox.Submit, which never blocks. Run writes it to a
// checksummed segment file and fsyncs it before the client may send it; the backend acknowledges
// only what it has committed, and the client resends everything unacknowledged after any failure.
// A damaged record on disk is skipped, the records after it are kept, and the event is rebuilt
// from its round's journal (Outbox.SetJournal) or an alarm names it (AlarmEventsLost).
//
// # Alarms and link state
//
// Problems an operator must see are Alarms (Outbox.Alarms, Client.Status): events lost, a round
// the backend refuses for good (AlarmGap, AlarmConflict), another show connected as the same wall
// (AlarmWallInUse), this show fenced by a higher epoch (AlarmFenced), a refused hello. Status.State
// is one of the Link* states.
//
// # Concurrency
//
// Outbox.Run and Client.Run each block and own their goroutines until their context ends. Every
// other method of Outbox and Client is safe from any goroutine; those the frame goroutine calls
// (Submit, Depth, OldestAge, Alarms, Client.Status, SetStatus, MaxRound, NextRound, CheckStart)
// never wait on the disk or the network. Outbox.SetEpoch and SetAside block on the disk.
package netsync
