// A new offer or assignment: a short two-tone sound and a vibration, and a system
// notification while the panel is hidden. Browsers only let a page play sound (and ask for
// notifications) after a gesture, so both are prepared when the rider goes online.
import { askNotificationPermission, notifyIfHidden } from '../shared/pwa';
import type { Order } from '../shared/types';
import { messagesNow } from '../shared/i18n';
import { rider } from './messages';

let ctx: AudioContext | null = null;

export function prepareAlert() {
  try {
    ctx ??= new AudioContext();
    if (ctx.state !== 'running') void ctx.resume();
  } catch {
    ctx = null;
  }
  void askNotificationPermission(); // asks once; nothing if already answered
}

export function offerAlert(order: Order) {
  (window as any).__brigadeOfferAlerts = ((window as any).__brigadeOfferAlerts ?? 0) + 1;
  navigator.vibrate?.([200, 100, 200]);
  const m = messagesNow(rider).alert; // the language now: a notification is written once
  const offer = !!order.offer_expires_at;
  const title = offer ? m.offerTitle(order.id) : m.assignedTitle(order.id);
  void notifyIfHidden(title, offer ? m.offerBody(order.delivery.address) : m.assignedBody(order.delivery.address), `offer-${order.id}`);
  if (!ctx || ctx.state !== 'running') return;
  const t = ctx.currentTime;
  for (const [i, freq] of [880, 1320].entries()) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.2, t + i * 0.18);
    gain.gain.exponentialRampToValueAtTime(0.001, t + i * 0.18 + 0.16);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t + i * 0.18);
    osc.stop(t + i * 0.18 + 0.17);
  }
}
