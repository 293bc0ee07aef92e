/**
 * The upload token is the only proof of ownership: it is kept in this
 * browser's localStorage (`reelay:owner:<videoId>`) so the person who uploaded
 * a video can edit or delete it later from the watch page.
 */

const key = (videoId: string) => `reelay:owner:${videoId}`;

export function ownerToken(videoId: string): string | null {
  try {
    return localStorage.getItem(key(videoId));
  } catch {
    return null; // Storage disabled: the person just isn't recognised as the owner.
  }
}

export function rememberOwner(videoId: string, uploadToken: string): void {
  try {
    localStorage.setItem(key(videoId), uploadToken);
  } catch {
    // Storage full or disabled: the upload still works, only later editing does not.
  }
}

export function forgetOwner(videoId: string): void {
  try {
    localStorage.removeItem(key(videoId));
  } catch {
    // Nothing to forget.
  }
}
