/** The video's Durable Object, by video id: the one way the Worker reaches it. */
export const videoObject = (env: Env, videoId: string) => env.VIDEO_OBJECTS.getByName(videoId);
