// Package netsync streams score events to the show's scoring backend over WebSocket through a
// durable outbox, and keeps the show clock in step with the backend's. It is built by its own issue;
// until then it is empty.
package netsync
