package netsync

import "tapwall/game"

// genEvent is the seq-th event of a deterministic round: lane seq%4, delta seq%7+1.
func genEvent(wall string, round uint32, seq uint64) Event {
	return game.ScoreEvent{Wall: wall, Round: round, Seq: seq, Tick: int64(seq), Lane: int(seq % 4),
		Delta: int64(seq%7 + 1), Reason: game.ReasonTarget, ShowUS: int64(seq) * 1000}
}
