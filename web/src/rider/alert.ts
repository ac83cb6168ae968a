// A new offer or assignment: a short two-tone sound and a vibration. Browsers only let a
// page play sound after a gesture, so the audio is prepared when the rider goes online.
let ctx: AudioContext | null = null;

export function prepareAlert() {
  try {
    ctx ??= new AudioContext();
    if (ctx.state !== 'running') void ctx.resume();
  } catch {
    ctx = null;
  }
}

export function offerAlert() {
  (window as any).__brigadeOfferAlerts = ((window as any).__brigadeOfferAlerts ?? 0) + 1;
  navigator.vibrate?.([200, 100, 200]);
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
