/** The site's own URLs, built in one place so user text is always encoded into them. */

export const watchUrl = (id: string) => `/watch/${encodeURIComponent(id)}`;
export const tagUrl = (tag: string) => `/?${new URLSearchParams({ tag })}`;
