// The live connection shared by the three panels.
//
// - keeps the last seen change seq and the stream epoch, and reconnects with
//   auth {token, offset, epoch}, so the server replays exactly what was missed;
// - drops any change whose seq it has already seen (no duplicated cards);
// - on `resync` (history lost, another database) reloads state over REST;
// - follows the browser's online/offline events, so a dead network is noticed at
//   once instead of after a ping timeout;
// - exposes its state: connecting, live, reconnecting, reloaded, offline.
import { io, type Socket } from 'socket.io-client';
import type { Alert, MenuChange, OrderChange, RestaurantChange, RiderLocation } from './types';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'reloaded' | 'offline' | 'unauthorized';

export interface LiveHandlers {
  /** Reload everything over REST (first connection, resync). */
  reload: () => Promise<void>;
  order?: (c: OrderChange) => void;
  menu?: (c: MenuChange) => void;
  restaurant?: (c: RestaurantChange) => void;
  alert?: (a: Alert) => void;
  location?: (l: RiderLocation) => void;
  unauthorized?: () => void;
}

export class LiveConnection {
  lastSeq: number | null = null;
  // The server's own offset string of the last event ("S", or "S.1" once the alert
  // of change S was seen too): sent back on reconnect so nothing is replayed twice.
  private lastOffset: string | null = null;
  epoch: string | null = null;
  state: LiveState = 'connecting';
  readonly socket: Socket;
  private listeners = new Set<(s: LiveState) => void>();
  private reloadedTimer: number | undefined;
  private retryTimer: number | undefined;
  private needReload = true;
  private closed = false;

  constructor(
    private readonly token: string,
    private readonly handlers: LiveHandlers,
    url = '',
  ) {
    this.socket = io(url || undefined, {
      autoConnect: false,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
      auth: (cb) => {
        // statusChanged (the tutorial's snapshot of every open order) is not for the panels:
        // they follow order:changed.
        const auth: Record<string, unknown> = { token: this.token, statusChanged: false };
        if (this.lastSeq != null) auth.offset = this.lastOffset ?? this.lastSeq;
        if (this.epoch != null) auth.epoch = this.epoch;
        cb(auth);
      },
    });
    const s = this.socket;
    s.on('order:changed', (c: OrderChange, offset?: string) => {
      if (this.seen(c.seq)) return;
      this.noteOffset(offset);
      this.handlers.order?.(c);
    });
    s.on('menu:changed', (c: MenuChange, offset?: string) => {
      if (this.seen(c.seq)) return;
      this.noteOffset(offset);
      this.handlers.menu?.(c);
    });
    s.on('restaurant:changed', (c: RestaurantChange, offset?: string) => {
      if (this.seen(c.seq)) return;
      this.noteOffset(offset);
      this.handlers.restaurant?.(c);
    });
    s.on('alert', (a: Alert, offset?: string) => {
      this.noteOffset(offset);
      this.handlers.alert?.(a);
    });
    s.on('rider:location', (l: RiderLocation) => this.handlers.location?.(l));
    s.on('resync', () => {
      // The server cannot replay what we missed: forget our position, reload
      // over REST once `ready` tells us where the stream stands.
      this.lastSeq = null;
      this.lastOffset = null;
      this.needReload = true;
    });
    s.on('ready', async (r: { epoch: string; last_seq: number }) => {
      const first = this.epoch == null;
      this.epoch = r.epoch;
      if (this.lastSeq == null || r.last_seq > this.lastSeq) {
        this.lastSeq = r.last_seq;
        this.lastOffset = `${r.last_seq}.1`;
      }
      if (this.needReload) {
        const wasReload = !first;
        this.needReload = false;
        try {
          await this.handlers.reload();
        } catch {
          /* the panel shows its own error */
        }
        this.setState(wasReload ? 'reloaded' : 'live');
        if (wasReload) {
          window.clearTimeout(this.reloadedTimer);
    window.clearTimeout(this.retryTimer);
          this.reloadedTimer = window.setTimeout(() => {
            if (this.state === 'reloaded') this.setState('live');
          }, 4000);
        }
      } else {
        this.setState('live');
      }
    });
    s.on('disconnect', (reason) => {
      if (this.closed) return;
      if (reason === 'io server disconnect') {
        // The server closed us (token revoked, ...): check the token over REST.
        this.setState('unauthorized');
        this.handlers.unauthorized?.();
        return;
      }
      this.setState(navigator.onLine ? 'reconnecting' : 'offline');
    });
    s.on('connect_error', (err) => {
      if (err.message === 'unauthorized') {
        this.setState('unauthorized');
        this.handlers.unauthorized?.();
        return;
      }
      if (err.message === 'rate_limited' || err.message === 'unavailable') {
        // Too many connects this minute, or the server cannot reach its database: the
        // client does not retry a refusal by itself; try again when the server says
        // (with some jitter).
        const data = (err as Error & { data?: { retry_after_ms?: number } }).data;
        const wait = Math.min(Math.max(Number(data?.retry_after_ms) || 5000, 1000), 60000);
        window.clearTimeout(this.retryTimer);
        this.retryTimer = window.setTimeout(() => {
          if (!this.closed && !this.socket.connected) this.socket.connect();
        }, wait + Math.random() * 1000);
      }
      this.setState(navigator.onLine ? 'reconnecting' : 'offline');
    });
    window.addEventListener('offline', this.onOffline);
    window.addEventListener('online', this.onOnline);
  }

  start() {
    if (!navigator.onLine) this.setState('offline');
    else this.socket.connect();
  }

  close() {
    this.closed = true;
    window.removeEventListener('offline', this.onOffline);
    window.removeEventListener('online', this.onOnline);
    window.clearTimeout(this.reloadedTimer);
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }

  subscribe(fn: (s: LiveState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private noteOffset(offset: string | undefined) {
    if (typeof offset === 'string') this.lastOffset = offset;
  }

  /** Marks a seq as seen; true when it was seen before (a duplicate). */
  private seen(seq: number | string): boolean {
    const n = Number(seq);
    if (!Number.isFinite(n)) return false;
    if (this.lastSeq != null && n <= this.lastSeq) return true;
    this.lastSeq = n;
    return false;
  }

  private onOffline = () => {
    this.socket.disconnect();
    this.setState('offline');
  };

  private onOnline = () => {
    if (this.closed) return;
    this.setState('reconnecting');
    this.socket.connect();
  };

  private setState(s: LiveState) {
    if (this.state === s) return;
    this.state = s;
    this.listeners.forEach((fn) => fn(s));
  }
}
