//! Paxos driven by hand, one handler at a time.
