// link - the WebSocket to /api/v1/ws: opens it, hands every frame to its
// owner, and after a drop reconnects by itself: the delay doubles from 0.5 s
// to 15 s and a random half of it is jitter, so that a room of phones does
// not come back all at once after the server restarts.

import { parseFrame } from './rules.js';

const BASE_MS = 500;
const CAP_MS = 15000;

export class Link {
  // on: { open(), frame(object), close(event, wasOpen), wait(ms, attempt) }
  constructor(on) {
    this.on = on;
    this.ws = null;
    this.attempt = 0;
    this.timer = 0;
    this.running = false;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.open();
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  // A hint that the network is back (online event, tab shown): try now.
  retryNow() {
    if (!this.running || this.ws) return;
    clearTimeout(this.timer);
    this.open();
  }

  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  open() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/api/v1/ws`);
    let wasOpen = false;
    this.ws = ws;
    ws.onopen = () => {
      wasOpen = true;
      this.attempt = 0;
      this.on.open();
    };
    ws.onmessage = (event) => {
      const frame = parseFrame(event.data);
      if (frame && this.ws === ws) this.on.frame(frame);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.on.close(event, wasOpen);
      if (this.running) this.later();
    };
  }

  later() {
    const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** this.attempt);
    const ms = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    this.attempt += 1;
    this.on.wait(ms, this.attempt);
    this.timer = setTimeout(() => {
      if (this.running && !this.ws) this.open();
    }, ms);
  }
}
