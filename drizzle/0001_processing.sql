ALTER TABLE `videos` ADD `frame_rate` real;--> statement-breakpoint
ALTER TABLE `videos` ADD `video_codec` text;--> statement-breakpoint
ALTER TABLE `videos` ADD `audio_codec` text;--> statement-breakpoint
ALTER TABLE `videos` ADD `renditions` text;--> statement-breakpoint
ALTER TABLE `videos` ADD `playback_job` text;--> statement-breakpoint
ALTER TABLE `videos` ADD `ladder_complete` integer DEFAULT false NOT NULL;