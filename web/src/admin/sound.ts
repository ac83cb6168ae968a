// A two-tone WebAudio beep. Browsers only let a page play sound after a user
// gesture, so the context is created (or resumed) by the "Enable sound" button.
let ctx: AudioContext | null = null;

export function soundReady(): boolean {
  return !!ctx && ctx.state === 'running';
}

export async function enableSound(): Promise<boolean> {
  try {
    ctx ??= new AudioContext();
    if (ctx.state !== 'running') await ctx.resume();
    localStorage.setItem('brigade.admin.sound', 'on');
    return ctx.state === 'running';
  } catch {
    return false;
  }
}

export function disableSound() {
  localStorage.setItem('brigade.admin.sound', 'off');
}

export function soundWanted(): boolean {
  return localStorage.getItem('brigade.admin.sound') !== 'off';
}

export function beep() {
  // The saved choice, not the audio state: "Sound on" → off means silence even though the
  // context still runs.
  if (!soundWanted()) return;
  (window as any).__brigadeBeeps = ((window as any).__brigadeBeeps ?? 0) + 1; // observable in tests
  if (!ctx || ctx.state !== 'running') return;
  const t = ctx.currentTime;
  for (const [i, freq] of [880, 1175].entries()) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t + i * 0.18);
    gain.gain.exponentialRampToValueAtTime(0.25, t + i * 0.18 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.18 + 0.16);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t + i * 0.18);
    osc.stop(t + i * 0.18 + 0.18);
  }
}
