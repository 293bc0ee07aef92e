ALTER TABLE `videos` ADD `frames` text;--> statement-breakpoint
ALTER TABLE `videos` ADD `poster_time` real;--> statement-breakpoint
ALTER TABLE `videos` ADD `downloadable` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `videos` ADD `downloads` text;