-- What processing learned that viewers need: every audio track (the watch page's
-- audio menu) and warnings such as a truncated source. Both JSON, null on rows
-- processed before they were recorded, which the API reads as [].
ALTER TABLE `videos` ADD `audio_tracks` text;--> statement-breakpoint
ALTER TABLE `videos` ADD `warnings` text;