ALTER TABLE `videos` ADD `visibility` text DEFAULT 'public' NOT NULL;--> statement-breakpoint
CREATE INDEX `videos_listing_created` ON `videos` (`visibility`,`status`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `videos_listing_duration` ON `videos` (`visibility`,`status`,`duration_sec`,`id`);