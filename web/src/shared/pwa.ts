// Installable panels and system notifications (docs/PANELS.md, "Installable panels and
// notifications"). The service worker (/sw.js, built from web/pwa/sw.js) keeps each panel's
// page and assets for offline starts; it is registered once per panel, with the panel's
// scope, so that the three installed apps are separate.

/** Registers /sw.js for this panel ("/", "/admin/" or "/rider/"); built panels only. */
export function registerServiceWorker(scope: string) {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js', { scope }).catch(() => {
    /* no offline start; the panel works as before */
  });
}

export type NotifyPermission = NotificationPermission | 'unsupported';

export function notificationPermission(): NotifyPermission {
  return 'Notification' in window ? Notification.permission : 'unsupported';
}

/** Asks once (from a user gesture: browsers ignore or penalise asking on page load). */
export async function askNotificationPermission(): Promise<NotifyPermission> {
  if (!('Notification' in window)) return 'unsupported';
  if (Notification.permission !== 'default') return Notification.permission;
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

/**
 * A system notification while this tab is hidden (a visible panel shows the change
 * itself), with the permission already given. Through the service worker's registration
 * where there is one (the only way on Android, and a click brings the panel back), else
 * with `new Notification`. `tag` replaces an earlier notification of the same thing.
 */
export async function notifyIfHidden(title: string, body: string, tag = title) {
  if (!document.hidden || !('Notification' in window) || Notification.permission !== 'granted') return;
  const options: NotificationOptions = { body, tag, icon: '/icons/brigade-192.png', data: { url: location.href } };
  try {
    const registration = await navigator.serviceWorker?.getRegistration();
    if (registration?.active) {
      await registration.showNotification(title, options);
      return;
    }
  } catch {
    /* fall back to a page notification */
  }
  try {
    new Notification(title, options);
  } catch {
    /* some browsers only allow notifications from a service worker */
  }
}
