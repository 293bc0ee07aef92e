/**
 * Path parameters that name a video. A malformed id names nothing, so it is
 * answered as an unknown one is, 404 `not_found`, in the words of the
 * resource asked for.
 */
import { z } from "zod";
import { VideoIdSchema } from "../contracts/video.ts";
import { apiError } from "./errors.ts";
import { validParams } from "./validate.ts";

export const noSuchUpload = () => apiError("not_found", "No such upload.");
export const noSuchVideo = () => apiError("not_found", "No such video.");

/** `:videoId` under /api/uploads. */
export const uploadParam = validParams(z.object({ videoId: VideoIdSchema }), noSuchUpload);

/** `:id` under /api/videos and /videos. */
export const videoParam = validParams(z.object({ id: VideoIdSchema }), noSuchVideo);
